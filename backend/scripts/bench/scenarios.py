"""What the benchmark measures, as data: servers, scenarios, targets and comparisons.

A new row is a new entry here, not new control flow:

- a scenario against an existing server is one more `Scenario(...)` in `scenarios()`;
- a server variant (tracing on: `ServerSpec("app_traced", APP, otlp_sink=True)`, which sends
  its spans to a loopback receiver) is one more `ServerSpec`, its scenarios name it in
  `server=`, and a `Comparison` sets its target against the plain row;
- a load generator other than wrk is a `driver` name with a measuring function registered
  in `measure.DRIVERS`.

The WebSocket fan-out and export-memory rows are not `Scenario`s: they measure latency of
delivery and memory, not requests/s, each on a server of its own that main.py starts after
the wrk rows (fanout.py, export_memory.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.scripts.bench.common import CONNS, CONNS_HIGH, TIMEOUT, TIMEOUT_HIGH


@dataclass(frozen=True)
class ServerSpec:
    """One uvicorn server of the run. The ceiling is served exactly like the app."""

    key: str
    app: str
    workers: int = 1
    env: Mapping[str, str] = field(default_factory=dict)  # on top of the app's environment
    is_app: bool = True  # False: the ceiling (no database, no app settings)
    health_path: str = "/health"
    otlp_sink: bool = False  # tracing on: OTEL_EXPORTER_OTLP_ENDPOINT = a loopback receiver


@dataclass(frozen=True)
class Scenario:
    """One table row: `driver` load on `server` at `path`, as `user` (see seeding.Users)."""

    key: str
    number: str  # the row's label in the table
    title: str
    server: str
    path: str
    stage: int  # run order: servers start before their first stage and stop after their last
    lua: str = "get.lua"
    expect: int = 200
    user: str | None = None  # "a": 50 todos, "b": 10,000 todos, "c": the one who creates
    rotate: bool = False  # the script rotates over the user's todo ids
    conns: int = CONNS
    timeout: int = TIMEOUT
    driver: str = "wrk"
    # Rows of one stage compared with each other: measured in slices, in mirrored order
    # (measure.measure_mirrored).
    mirrored: bool = False


@dataclass(frozen=True)
class FractionTarget:
    """`row`'s requests/s at least `need` x the ceiling's."""

    row: str
    name: str
    need: float


@dataclass(frozen=True)
class Comparison:
    """`row`'s requests/s at least `need` x `base`'s, both measured in the same run."""

    key: str
    name: str
    row: str
    base: str
    need: float


CEILING = "backend.scripts.bench.ceiling:app"
APP = "backend.main:app"
UNTRACED = "backend.scripts.bench.untraced:app"
# The export-memory row's own app server, started after every other row (export_memory.py).
EXPORT_SERVER = ServerSpec("app_export", APP)
# The fan-out row's own app server (fanout.py): 10 sockets a user, under WS_MAX_PER_USER
# (stated here, not left to the default, since a lower one would close sockets mid-row).
FANOUT_SERVER = ServerSpec("app_fanout", APP, env={"WS_MAX_PER_USER": "20"})


def servers(workers: int) -> dict[str, ServerSpec]:
    specs = [
        ServerSpec("ceiling", CEILING, is_app=False, health_path="/"),
        ServerSpec("app", APP),
        ServerSpec("app_untraced", UNTRACED),
        ServerSpec("app_traced", APP, otlp_sink=True),
    ]
    if workers > 1:
        specs.append(ServerSpec("app_workers", APP, workers=workers))
    return {spec.key: spec for spec in specs}


LIST50 = "/todos/?limit=50"
# The rows in table order. Stages (run order): 0 ceiling, 1 app reads, 2 app writes (after
# the reads: thousands of writes grow the WAL and the tables, which would tilt the
# 50-vs-10,000 comparison), 3 the app with more workers, 4 the ceiling again.
SCENARIOS = [
    Scenario("list50", "1", "GET /todos/?limit=50 (50 todos)", "app", LIST50, 1, user="a", mirrored=True),
    # Tracing (issue 13): off must cost nothing against an app that never installed it;
    # on shows what the spans cost. Off is measured along with row 1, in mirrored
    # slices, against the same user's 50 todos.
    Scenario(
        "list50_untraced",
        "1a",
        "GET /todos/?limit=50, tracing never installed",
        "app_untraced",
        LIST50,
        1,
        user="a",
        mirrored=True,
    ),
    # Measured after the two rows it is compared with, never between their slices: its
    # exporter and the span receiver go on working for a while after its last request.
    Scenario("list50_traced", "1b", "GET /todos/?limit=50, tracing on (OTLP/HTTP)", "app_traced", LIST50, 1, user="a"),
    Scenario(
        "one",
        "2",
        "GET /todos/{id} (rotating over 50)",
        "app",
        "/todos/",
        1,
        "get_rotate.lua",
        user="a",
        rotate=True,
    ),
    Scenario("create", "3", "POST /todos/todos", "app", "/todos/todos", 2, "post.lua", expect=201, user="c"),
    Scenario(
        "update",
        "4",
        "PUT /todos/todo/{id} (rotating over 50)",
        "app",
        "/todos/todo/",
        2,
        "put_rotate.lua",
        user="a",
        rotate=True,
    ),
    Scenario("list10k", "5", "GET /todos/?limit=50 (10,000 todos)", "app", LIST50, 1, user="b"),
    Scenario(
        "list50_c256",
        "6",
        "GET /todos/?limit=50 (50 todos), 256 conns",
        "app",
        LIST50,
        1,
        user="a",
        conns=CONNS_HIGH,
        timeout=TIMEOUT_HIGH,
    ),
    Scenario("ceiling_start", "7a", "ceiling: bare FastAPI async GET (start)", "ceiling", "/", 0),
    Scenario("ceiling_end", "7b", "ceiling: bare FastAPI async GET (end)", "ceiling", "/", 4),
    Scenario(
        "ceiling_c256",
        "7c",
        "ceiling at 256 conns (control for row 6)",
        "ceiling",
        "/",
        4,
        conns=CONNS_HIGH,
        timeout=TIMEOUT_HIGH,
    ),
]


def scenarios(workers: int) -> list[Scenario]:
    """SCENARIOS, plus row 8 (the list of 50 on `workers` workers) when there are several."""
    if workers <= 1:
        return list(SCENARIOS)
    title = f"GET /todos/?limit=50 (50 todos), {workers} workers"
    return [*SCENARIOS, Scenario(f"list50_w{workers}", "8", title, "app_workers", LIST50, 3, user="a")]


TRACING_COMPARISONS = [
    # "no measurable cost": within the run-to-run noise of one 10 s row (a few percent)
    Comparison(
        "tracing_off", "tracing off: list of 50 >= 0.95 x tracing never installed", "list50", "list50_untraced", 0.95
    ),
    Comparison("tracing_on", "tracing on: list of 50 >= 0.5 x tracing off", "list50_traced", "list50", 0.5),
]


def comparisons(workers: int) -> list[Comparison]:
    if workers <= 1:
        return list(TRACING_COMPARISONS)
    return [
        *TRACING_COMPARISONS,
        Comparison(
            "workers", f"{workers} workers: list of 50 >= 1.3 x one worker", f"list50_w{workers}", "list50", 1.3
        ),
    ]


# Issue 5: one worker on SQLite (kept as it was; on a server database shown for reference).
ISSUE5_TARGETS = [
    FractionTarget("list50", "list of 50 >= 0.15 x ceiling", 0.15),
    FractionTarget("one", "one todo >= 0.25 x ceiling", 0.25),
    FractionTarget("create", "create >= 0.10 x ceiling", 0.10),
    FractionTarget("update", "update >= 0.10 x ceiling", 0.10),
]


def _issue12(list50: float, one: float, write: float) -> list[FractionTarget]:
    return [
        FractionTarget("list50", f"list of 50 >= {list50:.2f} x ceiling", list50),
        FractionTarget("one", f"one todo >= {one:.2f} x ceiling", one),
        FractionTarget("create", f"create >= {write:.2f} x ceiling", write),
        FractionTarget("update", f"update >= {write:.2f} x ceiling", write),
    ]


# Issue 12: the same rows, per database.
ISSUE12_TARGETS = {
    "sqlite": _issue12(0.20, 0.30, 0.15),
    "postgresql": _issue12(0.15, 0.20, 0.10),
    "mariadb": _issue12(0.10, 0.15, 0.08),
}
PEAK_RSS_MB = 150
P99_OVER_P50_AT_32 = 10  # issue 5
P99_OVER_P50_AT_256 = 3  # issue 12
LIST10K_OVER_LIST50 = 0.8
FANOUT_P99_MS = 250  # the fan-out issue: delivery p99 on one worker with SQLite
FANOUT_GROWTH_MB = 40  # ... and the worker's RSS growth for its 500 open sockets
EXPORT_GROWTH_MB = 30  # the export issue: 100,000 todos raise the worker's RSS by less than this
