"""The report: the results table, the CPU table, targets and notes, on stdout and as
markdown + JSON in bench-results/."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from backend.scripts.bench.common import CONNS, CONNS_HIGH, HASH_SEED, HIGH_RATE, THREADS, TIMEOUT, TIMEOUT_HIGH, out
from backend.scripts.bench.database import FreshDatabase
from backend.scripts.bench.export_memory import EXPORT_TODOS, SAMPLE_INTERVAL, ExportRow
from backend.scripts.bench.fanout import FANOUT_CHANGES, IN_FLIGHT
from backend.scripts.bench.fanout_stats import FanoutResult
from backend.scripts.bench.machine import MachineInfo, log_problems, machine_info
from backend.scripts.bench.measure import CHECK_SECONDS, Row
from backend.scripts.bench.seeding import Users
from backend.scripts.bench.targets import Target

Table = tuple[list[str], list[list[str]], set[int]]


@dataclass
class Outcome:
    """Everything one run measured and the report shows."""

    db: FreshDatabase
    reproduce: str
    warmup: int
    started: datetime
    workers: int
    rate_limits: list[str]
    rows: list[Row] = field(default_factory=list)
    ceiling_checks: list[float] = field(default_factory=list)  # the ceiling's runs between rows (req/s)
    rss_mb: dict[str, float] = field(default_factory=dict)  # by server key
    worker_rss_mb: dict[str, float] = field(default_factory=dict)  # largest single worker, by server key
    users: Users | None = None
    analyzed: str | None = None
    app_alive: bool = True
    load: list[str] = field(default_factory=list)  # load averages at the start and the end
    app_log: Path | None = None
    export: list[ExportRow] = field(default_factory=list)  # the export-memory row, one entry a format
    export_todos: int = 0  # 0: the row was skipped (--no-export)
    fanout: FanoutResult | None = None  # the WebSocket fan-out row; None: skipped (--no-fanout)

    def ceiling_runs(self) -> list[float]:
        """Every run of the ceiling at 32 connections: 7a, 7b and the checks between rows (req/s)."""
        rows = self.by_key()
        return [rows["ceiling_start"].rps, rows["ceiling_end"].rps, *self.ceiling_checks]

    def by_key(self) -> dict[str, Row]:
        return {row.scenario.key: row for row in self.rows}


def results_table(rows: list[Row]) -> Table:
    header = ["#", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "socket errors (timeouts)", "x ceiling"]
    body = []
    for r in rows:
        non2xx = str(r.non_2xx) + ("" if r.preflight_ok else f" (preflight HTTP {r.preflight_status})")
        errors = f"{r.socket_errors} ({r.timeouts})" + (" STALLED" if r.stalled else "")
        fraction = "1.000" if r.fraction_of_ceiling is None else f"{r.fraction_of_ceiling:.3f}"
        body.append(
            [
                r.scenario.number,
                r.scenario.title,
                str(r.scenario.conns),
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                non2xx,
                errors,
                fraction,
            ]
        )
    return header, body, {0, 2, 3, 4, 5, 6, 7, 8}


def cpu_table(rows: list[Row]) -> Table:
    """CPU seconds used during each timed run, by process, against what the machine had."""
    header = ["#", "app processes", "wrk", "db server", "others", "machine busy", "machine capacity"]
    cpus = os.cpu_count() or 1
    body = []
    for r in rows:
        app = " + ".join(f"{s:.1f}" for s in r.cpu_app_s) or "?"
        ours = sum(r.cpu_app_s) + r.cpu_wrk_s + (r.cpu_db_s or 0.0)
        db = "-" if r.cpu_db_s is None else f"{r.cpu_db_s:.1f}"
        others = max(r.cpu_machine_s - ours, 0.0)
        capacity = f"{cpus * r.duration_s:.0f} ({cpus} x {r.duration_s} s)"
        wrk, machine = f"{r.cpu_wrk_s:.1f}", f"{r.cpu_machine_s:.1f}"
        body.append([r.scenario.number, app, wrk, db, f"{others:.1f}", machine, capacity])
    return header, body, {0, 2, 3, 4, 5, 6}


def export_table(export: list[ExportRow]) -> Table:
    header = ["format", "todos", "HTTP", "MB", "MB on the wire", "seconds", "RSS before MB", "peak MB", "growth MB"]
    body = [
        [
            r.format,
            f"{r.todos:,}",
            str(r.status),
            f"{r.bytes / 1e6:.1f}",
            f"{r.wire_bytes / 1e6:.1f}",
            f"{r.seconds:.1f}",
            f"{r.rss_before_mb:.1f}",
            f"{r.rss_peak_mb:.1f}",
            f"{r.growth_mb:+.1f}",
        ]
        for r in export
    ]
    return header, body, {1, 2, 3, 4, 5, 6, 7, 8}


def export_heading(o: Outcome) -> str:
    """What the export table is, and in --quick mode that it is not the issue's 100,000."""
    if not o.export_todos:
        return "export memory: skipped (--no-export)"
    quick = f" (--quick; the issue's figure is {EXPORT_TODOS:,})" if o.export_todos < EXPORT_TODOS else ""
    return (
        f"export memory: GET /todos/export of {o.export_todos:,} todos{quick}, each format in turn, on a fresh "
        f"app worker of its own after every other row; its VmRSS sampled every {SAMPLE_INTERVAL * 1000:.0f} ms"
    )


def fanout_table(f: FanoutResult) -> Table:
    """The fan-out row as measure / value lines: one run, too many figures for one table row."""
    t = f.tally
    body = [
        ["sockets open (users x per user)", f"{f.sockets} ({f.users} x {f.sockets // f.users})", ""],
        ["changes (seconds)", f"{f.changes:,} ({f.change_seconds:.1f} s, {IN_FLIGHT} in flight)", ""],
        ["deliveries expected / arrived", f"{t.expected:,} / {t.delivered:,}", ""],
        ["delivery latency p50 / p99 / max", f"{f.p50_ms:.1f} / {f.p99_ms:.1f} / {f.max_ms:.1f} ms", ""],
        ["lost / duplicated / misdelivered", f"{t.lost} / {t.duplicated} / {t.misdelivered}", ""],
        ["sockets closed by the server early", str(f.closed_early), ""],
        ["worker RSS before the sockets / with them open", f"{f.rss_before_mb:.1f} / {f.rss_open_mb:.1f} MB", ""],
        [
            "RSS growth for the open sockets",
            f"{f.growth_mb:+.1f} MB",
            f"{f.growth_mb * 1024 / f.sockets:.0f} kB a socket",
        ],
        ["worker RSS peak during the changes", f"{f.rss_peak_mb:.1f} MB", ""],
    ]
    return ["fan-out", "value", "per socket"], body, set()


def fanout_heading(o: Outcome) -> str:
    """What the fan-out table is, and in --quick mode that it is not the issue's 1,000 changes."""
    f = o.fanout
    if f is None:
        return "WebSocket fan-out: skipped (--no-fanout)"
    quick = f" (--quick; the issue's figure is {FANOUT_CHANGES:,})" if f.changes < FANOUT_CHANGES else ""
    return (
        f"WebSocket fan-out: {f.sockets} sockets of {f.users} users open on a fresh app worker of its own, "
        f"{f.changes:,} changes{quick} through the JSON API; latency = arrival - the event's `at`"
    )


def targets_table(targets: list[Target]) -> Table:
    return ["target", "value", "result"], [[t.target, t.value, "PASS" if t.passed else "FAIL"] for t in targets], set()


def text_table(table: Table) -> str:
    header, body, right = table
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in body)])


def md_table(table: Table) -> str:
    header, body, right = table
    sep = ["---:" if i in right else "---" for i in range(len(header))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, sep, *body])


def title(o: Outcome) -> str:
    rows = o.by_key()
    workers = f"; row 8: {o.workers} uvicorn workers" if o.workers > 1 else ""
    return (
        f"{o.db.label}, one uvicorn worker, wrk -t{THREADS} -c{CONNS} --timeout {TIMEOUT}s "
        f"-d{rows['one'].duration_s}s (rows 1 and 1a: 4 mirrored slices each, median; row 6: "
        f"-c{CONNS_HIGH} --timeout {TIMEOUT_HIGH}s "
        f"-d{rows['list50_c256'].duration_s}s{workers}), {o.warmup} s warm-up each, "
        f"{o.started.strftime('%Y-%m-%d %H:%M UTC')}"
    )


def machine_line(info: MachineInfo, load: list[str]) -> str:
    return (
        f"{info['cpus']} CPUs ({info['cpu']}), {info['memory_gb']} GB, Python {info['python']}, "
        f"{info['wrk']}, commit {info['git_commit'] or '?'}{' + local changes' if info['git_dirty'] else ''}; "
        f"load average {load[0]} at the start, {load[-1]} at the end"
    )


def notes(o: Outcome, ceiling_rps: float, ceiling_gap: float) -> list[str]:
    rss = o.rss_mb
    found = [
        f"peak RSS of the app worker: {rss['app']:.1f} MB (ceiling app: {rss['ceiling']:.1f} MB)",
        "non-2xx: wrk's count of responses with status >= 400; each scenario's exact status is checked "
        "with one request first",
        "PASS/FAIL: issue 5's targets (one worker on SQLite"
        + ("" if o.db.label == "sqlite" else "; shown here for reference")
        + f"), then issue 12's for {o.db.label}",
        "only ratios within one run mean anything; absolute numbers move with the machine's load",
        f"x ceiling: requests/s over the median of the bare ceiling's {len(o.ceiling_checks) + 2} runs at "
        f"-c{CONNS}: 7a, 7b and one of {CHECK_SECONDS} s after each app row ({ceiling_rps:,.0f} req/s; they ranged "
        f"{_range(o)}, the middle half within {ceiling_gap:.0%} of the median)",
        f"throttles: the app ran with {', '.join(o.rate_limits)} = {HIGH_RATE} (raised by the benchmark, in the "
        "environment it starts the app with); tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset) but in row 1b",
        f"every server (the ceiling too) ran with PYTHONHASHSEED={HASH_SEED}: processes of the same app "
        "otherwise differ by a few % with their hash layouts",
        "CPU seconds during each timed run: app processes = the uvicorn worker (row 8: its supervisor, "
        "then each worker), wrk = the load generator, db server = every process of the database server "
        "(its other clients included), others = the rest of the machine's busy time (other users' work shows here)",
    ]
    if "app_workers" in o.worker_rss_mb:
        found.append(f"peak RSS of one worker with {o.workers} workers: {o.worker_rss_mb['app_workers']:.1f} MB")
    if ceiling_gap > MOVED:
        found.append(
            f"WARNING: the ceiling's runs spread widely (the middle half over {ceiling_gap:.0%} of their median): "
            "the machine's speed changed while the run went on, so these ratios are unreliable; rerun on a "
            "quieter machine"
        )
    return found + _problem_notes(o)


MOVED = 0.15  # the middle half of the ceiling's runs this far apart: the machine was restless


def _range(o: Outcome) -> str:
    runs = o.ceiling_runs()
    return f"{min(runs):,.0f}-{max(runs):,.0f}"


def _problem_notes(o: Outcome) -> list[str]:
    found = []
    slow_drain = [f"{r.scenario.key} {r.drain_s:.1f} s" for r in o.rows if r.drain_s > 1.0]
    if slow_drain:
        found.append(
            "the server stayed busy after wrk stopped (requests abandoned by the client still being "
            "worked on): " + ", ".join(slow_drain)
        )
    for r in o.rows:
        workers = r.cpu_app_s[1:]  # after the supervisor, when there is one
        total = sum(workers, 0.0)
        if len(workers) > 1 and total > 0 and max(workers) > 0.8 * total:
            found.append(
                f"row {r.scenario.number}: one worker did {max(workers) / total:.0%} of the workers' CPU work: "
                "the connections were not spread over the workers (they share one listening socket, and a "
                "worker can accept a whole burst of new connections at once), so the row measures less than "
                "the workers could do"
            )
    if o.analyzed:
        found.append(f"planner statistics: {o.analyzed}")
    elif o.db.admin_url:
        found.append("planner statistics: --no-analyze, the tables were not analyzed after seeding")
    if o.users and o.users.seed_problem:
        found.append(f"APP PROBLEM while seeding user B: {o.users.seed_problem}")
    if not o.app_alive:
        found.append("the app had exited before it was stopped: see the app log")
    if o.app_log is not None:
        problems = log_problems(o.app_log)
        found.append(
            f"app log: {problems['error_lines']} ERROR/CRITICAL/Traceback lines, "
            f"{problems['warning_lines']} WARNING lines" + "".join(f"\n  {line}" for line in problems["sample"])
        )
    return found


def publish(o: Outcome, targets: list[Target], ceiling_rps: float, ceiling_gap: float, prefix: Path) -> None:
    """Print the report and write it to `prefix`.md and `prefix`.json."""
    info = machine_info()
    head, machine, found = title(o), machine_line(info, o.load), notes(o, ceiling_rps, ceiling_gap)
    tables = [results_table(o.rows), targets_table(targets), cpu_table(o.rows)]
    out()
    out(head)
    out(machine)
    out()
    out(text_table(tables[0]))
    out()
    out(f"peak RSS (app worker): {o.rss_mb['app']:.1f} MB")
    out()
    out(fanout_heading(o))
    if o.fanout:
        out(text_table(fanout_table(o.fanout)))
    out()
    out(export_heading(o))
    if o.export:
        out(text_table(export_table(o.export)))
    for table in tables[1:]:
        out()
        out(text_table(table))
    out()
    for note in found[1:]:
        out(f"note: {note}")
    md = [f"### Benchmark: {head}", "", machine, "", md_table(tables[0]), ""]
    md += [f"Peak RSS of the app worker: **{o.rss_mb['app']:.1f} MB**", ""]
    md += [fanout_heading(o) + ":" if o.fanout else fanout_heading(o), ""]
    md += [md_table(fanout_table(o.fanout)), ""] if o.fanout else []
    md += [export_heading(o) + ":" if o.export else export_heading(o), ""]
    md += [md_table(export_table(o.export)), ""] if o.export else []
    md += [md_table(tables[1]), ""]
    md += ["CPU seconds during each timed run:", "", md_table(tables[2]), ""]
    md += [*(f"- {note}" for note in found), "", f"Reproduce: `{o.reproduce}`", ""]
    Path(f"{prefix}.md").write_text("\n".join(md))
    Path(f"{prefix}.json").write_text(
        json.dumps(_json(o, info, targets, ceiling_rps, ceiling_gap, found), indent=2) + "\n"
    )


def _json(
    o: Outcome, info: MachineInfo, targets: list[Target], ceiling_rps: float, gap: float, found: list[str]
) -> dict[str, object]:
    users = o.users
    return {
        "started": o.started.isoformat(),
        "database": o.db.display,
        "database_kind": o.db.label,
        "duration_s": o.by_key()["one"].duration_s,
        "warmup_s": o.warmup,
        "workers_row": o.workers if o.workers > 1 else None,
        "wrk": {"threads": THREADS, "connections": CONNS, "timeout_s": TIMEOUT},
        "rate_limits": dict.fromkeys(o.rate_limits, HIGH_RATE),
        "seed": {
            "user_b_seconds": round(users.seed_seconds, 2) if users else None,
            "user_b_detail": users.seed_detail if users else None,
            "problem": users.seed_problem if users else None,
        },
        "machine": info,
        "ceiling_rps": round(ceiling_rps, 1),
        "ceiling_gap": round(gap, 3),
        "ceiling_checks": o.ceiling_checks,
        "load_average": {"start": o.load[0], "end": o.load[-1]},
        "rows": [r.as_json() for r in o.rows],
        "peak_rss_mb": {k: round(v, 1) for k, v in o.rss_mb.items()},
        "worker_peak_rss_mb": {k: round(v, 1) for k, v in o.worker_rss_mb.items()},
        "fanout": o.fanout.as_json() if o.fanout else None,
        "export_memory": {"todos": o.export_todos, "formats": [r.as_json() for r in o.export]},
        "targets": [t.as_dict() for t in targets],
        "notes": found,
    }
