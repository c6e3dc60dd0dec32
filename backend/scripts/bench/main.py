"""The command line and the order of a run: database, servers stage by stage, seeding, report.

Exit status: 0 when the benchmark ran (whatever the targets say), 2 on a setup failure,
130 when interrupted. Everything listens on 127.0.0.1 only; every process started here
is stopped on exit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median, quantiles
from types import FrameType

from backend.scripts.bench import scenarios as plan
from backend.scripts.bench.common import REPO, RESULTS_DIR, Interrupted, SetupError, log, out
from backend.scripts.bench.database import FreshDatabase, analyze, app_env, fresh_database, migrate
from backend.scripts.bench.export_memory import EXPORT_TODOS, EXPORT_TODOS_QUICK, measure_export
from backend.scripts.bench.fanout import (
    FANOUT_CHANGES,
    FANOUT_CHANGES_QUICK,
    FANOUT_USERS,
    SOCKETS_PER_USER,
    measure_fanout,
)
from backend.scripts.bench.machine import loadavg, save_log
from backend.scripts.bench.measure import CeilingChecks, Row, Run, measure, measure_mirrored
from backend.scripts.bench.otlp_sink import OtlpSink
from backend.scripts.bench.processes import PROCS, RssSampler, start_server, stop_server, wait_idle
from backend.scripts.bench.report import Outcome, publish
from backend.scripts.bench.seeding import seed
from backend.scripts.bench.targets import evaluate
from backend.test.live import LiveServer

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.sh", description="The benchmark: see docs/performance.md.")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="PostgreSQL or MariaDB server URL on 127.0.0.1; a fresh "
        "database is created on it and dropped afterwards (default: a temp SQLite file)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        metavar="SECONDS",
        help="seconds per scenario (default 10; never less than wrk's --timeout + 2 s, "
        "so that a timed-out request can be seen)",
    )
    parser.add_argument("--quick", action="store_true", help="--duration 3 with a 1 s warm-up, for smoke runs")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="also measure the list of 50 with N uvicorn workers (row 8), against one worker in the same run",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="the app's LOG_LEVEL (default INFO); the app log goes to bench-results/",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="with --db: skip the ANALYZE of the fresh database after seeding (as if autovacuum had not run yet)",
    )
    parser.add_argument(
        "--no-fanout",
        dest="fanout",
        action="store_false",
        help=f"skip the WebSocket fan-out row (after the wrk rows; {SOCKETS_PER_USER * FANOUT_USERS} sockets, "
        f"{FANOUT_CHANGES:,} changes, {FANOUT_CHANGES_QUICK:,} with --quick)",
    )
    parser.add_argument(
        "--no-export",
        dest="export",
        action="store_false",
        help=f"skip the export-memory row (last; {EXPORT_TODOS:,} todos, {EXPORT_TODOS_QUICK:,} with --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def reproduce(args: argparse.Namespace, db: FreshDatabase) -> str:
    duration = " --quick" if args.quick else "" if args.duration == 10 else f" --duration {args.duration}"
    return (
        "backend/scripts/bench.sh"
        + (f" --db '{db.given_url}'" if db.given_url else "")
        + (f" --workers {args.workers}" if args.workers > 1 else "")
        + ("" if args.analyze else " --no-analyze")
        + ("" if args.fanout else " --no-fanout")
        + ("" if args.export else " --no-export")
        + duration
    )


@dataclass
class Bench:
    """One run in progress: what it started (to stop it) and what it measured."""

    args: argparse.Namespace
    tmpdir: Path
    db: FreshDatabase | None = None
    env: dict[str, str] = field(default_factory=dict)
    servers: dict[str, LiveServer] = field(default_factory=dict)
    sinks: dict[str, OtlpSink] = field(default_factory=dict)
    samplers: dict[str, RssSampler] = field(default_factory=dict)
    saved_logs: list[tuple[Path, Path]] = field(default_factory=list)

    def start(self, spec: plan.ServerSpec, outcome: Outcome, run: Run) -> LiveServer:
        env = self.env if spec.is_app else dict(os.environ)
        if spec.otlp_sink:
            sink = self.sinks[spec.key] = OtlpSink().start()
            env = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
        server = start_server(spec, env, self.tmpdir / f"{spec.key}.log")
        self.servers[spec.key] = server
        self.samplers[spec.key] = RssSampler(server.pid)
        self.samplers[spec.key].start()
        if spec.is_app and outcome.users is None:
            self.seed(server, outcome, run)
        return server

    def seed(self, server: LiveServer, outcome: Outcome, run: Run) -> None:
        assert self.db is not None
        outcome.users = run.users = seed(server.url, run.raw_log)
        if self.args.analyze:
            try:
                outcome.analyzed = analyze(self.db)
            except Exception as exc:  # noqa: BLE001 - any driver error: a setup failure
                raise SetupError(f"ANALYZE after seeding failed: {exc}") from None
            if outcome.analyzed:
                log(outcome.analyzed)
        wait_idle(server)

    def stop(self, key: str, outcome: Outcome) -> None:
        server, sampler = self.servers.pop(key), self.samplers.pop(key)
        outcome.rss_mb[key] = sampler.finish()
        outcome.worker_rss_mb[key] = sampler.worker_peak_kb / 1024
        if key == "app":
            outcome.app_alive = server.alive()
        stop_server(server)
        log(f"{key} stopped; peak RSS {outcome.rss_mb[key]:.1f} MB")
        if key in self.sinks:
            self.check_sink(key)

    def check_sink(self, key: str) -> None:
        """The traced row counts only if spans really left the app (its exporter flushes on stop)."""
        sink = self.sinks.pop(key)
        sink.stop()
        if not sink.exports:
            raise SetupError(f"{key}: tracing was on, yet no span export reached the receiver")
        log(f"{key}: {sink.exports} OTLP exports received ({sink.bytes / 1e6:.1f} MB)")


def measure_all(bench: Bench, outcome: Outcome, run: Run) -> None:
    """Every scenario, stage by stage; a server starts before its first stage, stops after its last."""
    specs, rows = plan.servers(bench.args.workers), plan.scenarios(bench.args.workers)
    last_stage = {key: max(sc.stage for sc in rows if sc.server == key) for key in specs}
    measured: dict[str, Row] = {}

    def serving(sc: plan.Scenario) -> LiveServer:
        server = bench.servers.get(sc.server) or bench.start(specs[sc.server], outcome, run)
        if not server.alive():
            raise SetupError(f"{sc.server} exited (status {server.popen.returncode}); log tail:\n{server.tail()}")
        return server

    checks = CeilingChecks(run)
    for stage in sorted({sc.stage for sc in rows}):
        mirrored = [sc for sc in rows if sc.stage == stage and sc.mirrored]
        if mirrored:
            pairs = [(serving(sc), sc) for sc in mirrored]
            measured.update(zip((sc.key for sc in mirrored), measure_mirrored(pairs, run), strict=True))
            checks.check(bench.servers["ceiling"])
        for sc in (sc for sc in rows if sc.stage == stage and not sc.mirrored):
            measured[sc.key] = measure(serving(sc), sc, run)
            if specs[sc.server].is_app:
                checks.check(bench.servers["ceiling"])
        for key in [k for k in bench.servers if last_stage[k] == stage]:
            bench.stop(key, outcome)
    outcome.rows = [measured[sc.key] for sc in rows]
    outcome.ceiling_checks = checks.rps


def measure_fanout_row(bench: Bench, outcome: Outcome, run: Run) -> None:
    """The WebSocket fan-out row, on an app server of its own once the wrk rows are done."""
    spec = plan.FANOUT_SERVER
    server = bench.start(spec, outcome, run)
    outcome.fanout = measure_fanout(server, FANOUT_CHANGES_QUICK if bench.args.quick else FANOUT_CHANGES)
    bench.stop(spec.key, outcome)


def measure_export_row(bench: Bench, outcome: Outcome, run: Run) -> None:
    """The export-memory row, on an app server of its own once every other row is done."""
    assert bench.db is not None
    outcome.export_todos = EXPORT_TODOS_QUICK if bench.args.quick else EXPORT_TODOS
    spec = plan.EXPORT_SERVER
    server = bench.start(spec, outcome, run)
    outcome.export = measure_export(server, bench.db.url, outcome.export_todos)
    bench.stop(spec.key, outcome)


def execute(bench: Bench) -> None:
    args = bench.args
    warmup = 1 if args.duration <= 3 else 2
    load_start, started = loadavg(), datetime.now(UTC)
    RESULTS_DIR.mkdir(exist_ok=True)
    bench.db = db = fresh_database(args.db, bench.tmpdir)
    prefix = RESULTS_DIR / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{db.label}"
    keys = [*plan.servers(args.workers), plan.FANOUT_SERVER.key, plan.EXPORT_SERVER.key]
    bench.saved_logs = [(bench.tmpdir / f"{k}.log", Path(f"{prefix}-{k}.log.gz")) for k in keys]
    bench.env = app_env(db, args.log_level)
    limits = sorted(k for k in bench.env if k.startswith("RATE_LIMIT_"))
    log(f"database: {db.display}")
    log(f"raising the app's throttles for the benchmark: {', '.join(limits)} = {bench.env[limits[0]]}")
    log("migrating (alembic upgrade head)")
    migrate(bench.env)
    outcome = Outcome(db, reproduce(args, db), warmup, started, args.workers, limits, app_log=bench.tmpdir / "app.log")
    run = Run(args.duration, warmup, Path(f"{prefix}-wrk.txt"), None, db.server_process_names)
    measure_all(bench, outcome, run)
    if args.fanout:
        measure_fanout_row(bench, outcome, run)
    if args.export:
        measure_export_row(bench, outcome, run)
    outcome.load = [load_start, loadavg()]
    rows = outcome.by_key()
    ceiling_runs = outcome.ceiling_runs()
    ceiling_rps = median(ceiling_runs)
    for row in outcome.rows:
        row.fraction_of_ceiling = row.rps / ceiling_rps if ceiling_rps else 0.0
    low, _, high = quantiles(ceiling_runs, n=4)
    gap = (high - low) / ceiling_rps if ceiling_rps else 0.0  # the middle half's spread
    targets = evaluate(
        rows, outcome.rss_mb["app"], db.label, plan.comparisons(args.workers), outcome.export, outcome.fanout
    )
    publish(outcome, targets, ceiling_rps, gap, prefix)
    print_written(prefix, run.raw_log)


def print_written(prefix: Path, raw_log: Path) -> None:
    app_log = Path(f"{prefix}-app.log.gz")
    shown = [Path(f"{prefix}.json"), Path(f"{prefix}.md")]
    out(
        f"\nwritten: {', '.join(str(p.relative_to(REPO)) for p in shown)}"
        f" (app log {app_log.relative_to(REPO)}, raw wrk output {raw_log.relative_to(REPO)})"
    )


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # once is enough: let the clean-up run
    raise Interrupted(signal.Signals(signum).name)


def clean_up(bench: Bench) -> None:
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    for server in bench.servers.values():
        server.stop(timeout=5.0)
    for sink in bench.sinks.values():
        sink.stop()
    PROCS.stop_all()
    for source, dest in bench.saved_logs:
        save_log(source, dest)
    if bench.db is not None:
        try:
            bench.db.drop()
        except Exception as exc:  # noqa: BLE001 - report, and leave the rest of the clean-up to run
            log(f"could not drop database {bench.db.name}: {exc}")
    shutil.rmtree(bench.tmpdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)
    args = parse_args(argv)
    if not shutil.which("wrk"):
        log("wrk not found (bench.sh installs it)")
        return 2
    bench = Bench(args, Path(tempfile.mkdtemp(prefix="todo-bench-")))
    try:
        execute(bench)
        return 0
    except SetupError as exc:
        log(f"SETUP FAILED: {exc}")
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        log(f"interrupted ({exc}); cleaning up")
        return 130
    finally:
        clean_up(bench)
