"""The benchmark: compared rows measured in mirrored slices and merged, one hash seed for every server."""

from pathlib import Path
from typing import Any, cast

import pytest

from backend.scripts.bench import measure
from backend.scripts.bench.common import HASH_SEED
from backend.scripts.bench.measure import Row, Run, merge, mirrored_order
from backend.scripts.bench.processes import start_server
from backend.scripts.bench.scenarios import SCENARIOS, Scenario, comparisons, servers
from backend.test.live import LiveServer

LIST = Scenario("list50", "1", "GET list", "app", "/todos/", 1, mirrored=True)
SERVER = cast(LiveServer, object())  # never reached: the wrk runs are replaced


def row(requests: int, rps: float, p99: float, **over: Any) -> Row:
    figures: dict[str, Any] = {
        "scenario": LIST,
        "duration_s": 5,
        "drain_s": 0.1,
        "stalled": False,
        "rps": rps,
        "p50_ms": p99 / 2,
        "p90_ms": p99 / 1.5,
        "p99_ms": p99,
        "max_ms": p99 * 2,
        "requests": requests,
        "non_2xx": 0,
        "socket_errors": 0,
        "timeouts": 0,
        "connect_errors": 0,
        "read_errors": 0,
        "write_errors": 0,
        "preflight_status": 200,
        "preflight_ok": True,
        "cpu_app_s": [4.0],
        "cpu_wrk_s": 0.5,
        "cpu_db_s": 1.0,
        "cpu_machine_s": 6.0,
    }
    return Row(**{**figures, **over})


@pytest.mark.parametrize(
    ("count", "rounds", "order"),
    [(1, 2, [0, 0, 0, 0]), (2, 2, [0, 1, 1, 0, 0, 1, 1, 0]), (3, 1, [0, 1, 2, 2, 1, 0])],
)
def test_slices_run_in_mirrored_order(count: int, rounds: int, order: list[int]) -> None:
    assert mirrored_order(count, rounds) == order


def test_merged_slices_take_the_median_rate_and_add_up_the_rest() -> None:
    merged = merge(
        [
            row(1000, 1000.0, 10.0, non_2xx=1, drain_s=0.4),
            row(500, 500.0, 90.0, timeouts=2, stalled=True, cpu_db_s=2.5, max_ms=400.0),  # a slowed slice
            row(1100, 1100.0, 11.0),
            row(1050, 1050.0, 12.0),
        ]
    )
    assert merged.rps == pytest.approx(1025.0)  # the slowed slice left out, not averaged in
    assert merged.p99_ms == pytest.approx(11.5)
    assert merged.requests == 3650
    assert merged.max_ms == 400.0
    assert (merged.non_2xx, merged.timeouts, merged.stalled) == (1, 2, True)
    assert merged.duration_s == 20
    assert merged.drain_s == 0.4
    assert merged.cpu_app_s == [16.0]
    assert (merged.cpu_wrk_s, merged.cpu_db_s, merged.cpu_machine_s) == (2.0, 5.5, 24.0)


def test_sqlite_halves_have_no_database_cpu() -> None:
    assert merge([row(10, 1.0, 1.0, cpu_db_s=None), row(10, 1.0, 1.0, cpu_db_s=None)]).cpu_db_s is None


def test_each_row_is_warmed_once_then_timed_in_mirrored_slices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[str, str, int]] = []
    scenarios = [Scenario(key, key, key, key, "/", 1, mirrored=True) for key in ("a", "b", "c")]

    def warm(_server: Any, sc: Scenario, _run: Run, _timed: str) -> tuple[str, int]:
        calls.append(("warm", sc.key, 0))
        return f"job-{sc.key}", 200

    def timed(_server: Any, sc: Scenario, _run: Run, _job: str, seconds: int, _status: int) -> Row:
        calls.append(("timed", sc.key, seconds))
        return row(100 * (len(calls) - 3), 50.0, 1.0, scenario=sc)

    monkeypatch.setattr(measure, "_warm", warm)
    monkeypatch.setattr(measure, "_timed", timed)
    run = Run(seconds=20, warmup=2, raw_log=tmp_path / "wrk.txt", users=None, db_process_names=())
    rows = measure.measure_mirrored([(SERVER, sc) for sc in scenarios], run)

    assert [c[:2] for c in calls[:3]] == [("warm", "a"), ("warm", "b"), ("warm", "c")]
    assert [c[1] for c in calls[3:]] == ["a", "b", "c", "c", "b", "a"] * 2
    assert {c[2] for c in calls[3:]} == {20 // 4}  # a quarter of the 20 s each
    assert [r.scenario.key for r in rows] == ["a", "b", "c"]
    assert [r.requests for r in rows] == [100 + 600 + 700 + 1200, 200 + 500 + 800 + 1100, 300 + 400 + 900 + 1000]


def test_a_half_still_outlasts_the_client_timeout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[int] = []

    def timed(*args: Any) -> Row:
        seen.append(args[4])
        return row(10, 5.0, 1.0)

    monkeypatch.setattr(measure, "_warm", lambda *_args: ("job", 200))
    monkeypatch.setattr(measure, "_timed", timed)
    run = Run(seconds=3, warmup=1, raw_log=tmp_path / "wrk.txt", users=None, db_process_names=())
    measure.measure_mirrored([(SERVER, LIST)], run)
    assert seen == [LIST.timeout + 2] * 4


def test_tracing_off_and_never_installed_are_the_mirrored_rows() -> None:
    mirrored = [sc.key for sc in SCENARIOS if sc.mirrored]
    tracing_off = next(c for c in comparisons(1) if c.key == "tracing_off")
    assert mirrored == [tracing_off.row, tracing_off.base] == ["list50", "list50_untraced"]
    assert len({sc.stage for sc in SCENARIOS if sc.mirrored}) == 1  # measured together
    # tracing on works on after its last request (exporter, receiver): never between halves
    traced = next(sc for sc in SCENARIOS if sc.key == "list50_traced")
    assert not traced.mirrored


class Started(Exception):
    """Stops start_server once it has built the server's command."""


def test_every_server_gets_one_hash_seed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []

    def uvicorn(_app: str, *, env: dict[str, str], **_kw: Any) -> LiveServer:
        seen.append(env)
        raise Started

    monkeypatch.setattr(LiveServer, "uvicorn", uvicorn)
    for spec in servers(2).values():
        with pytest.raises(Started):
            start_server(spec, {"PYTHONHASHSEED": "random"}, tmp_path / "server.log")
    assert len(seen) == 5  # ceiling, app, untraced, traced, two workers
    assert {env["PYTHONHASHSEED"] for env in seen} == {HASH_SEED}


def test_the_ceiling_is_checked_in_short_runs_warmed_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    warmed: list[int] = []
    speeds = iter([9000.04, 7300.0])

    def timed(_server: Any, sc: Scenario, _run: Run, job: str, seconds: int, status: int) -> Row:
        assert (sc.server, sc.path, job, seconds, status) == ("ceiling", "/", "ceiling job", measure.CHECK_SECONDS, 200)
        return row(10, next(speeds), 1.0, scenario=sc)

    monkeypatch.setattr(measure, "_job", lambda *_args: "ceiling job")
    monkeypatch.setattr(measure, "run_wrk", lambda _job, seconds, _log: warmed.append(seconds))
    monkeypatch.setattr(measure, "_timed", timed)
    checks = measure.CeilingChecks(Run(seconds=10, warmup=2, raw_log=tmp_path / "w", users=None, db_process_names=()))

    checks.check(SERVER)
    checks.check(SERVER)

    assert warmed == [2]
    assert checks.rps == [9000.0, 7300.0]
