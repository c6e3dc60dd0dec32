"""PASS/FAIL for each target: issue 5's rows as they were, then issue 12's for this database."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from backend.scripts.bench.common import CONNS
from backend.scripts.bench.export_memory import ExportRow
from backend.scripts.bench.fanout_stats import FanoutResult
from backend.scripts.bench.measure import Row
from backend.scripts.bench.scenarios import (
    EXPORT_GROWTH_MB,
    FANOUT_GROWTH_MB,
    FANOUT_P99_MS,
    ISSUE5_TARGETS,
    ISSUE12_TARGETS,
    LIST10K_OVER_LIST50,
    P99_OVER_P50_AT_32,
    P99_OVER_P50_AT_256,
    PEAK_RSS_MB,
    Comparison,
)


@dataclass(frozen=True)
class Target:
    target: str
    value: str
    passed: bool

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "pass": self.passed}


def _frac(rows: dict[str, Row], key: str) -> float:
    return rows[key].fraction_of_ceiling or 0.0


def _spread(row: Row) -> float:
    return row.p99_ms / row.p50_ms if row.p50_ms else float("inf")


def _errors_at_32(rows: dict[str, Row]) -> list[Target]:
    at32 = [r for r in rows.values() if r.scenario.conns == CONNS and r.scenario.server == "app"]
    worst = max(at32, key=_spread)
    found = [
        Target(
            f"p99 <= {P99_OVER_P50_AT_32} x p50 at 32 connections (rows 1-5)",
            f"worst {_spread(worst):.1f}x ({worst.scenario.key})",
            _spread(worst) <= P99_OVER_P50_AT_32,
        )
    ]
    bad = [r for r in at32 if r.non_2xx or r.socket_errors or r.stalled or not r.preflight_ok]
    shown = ", ".join(
        f"{r.scenario.key} {r.non_2xx}/{r.socket_errors}"
        + ("" if r.preflight_ok else f" (preflight HTTP {r.preflight_status})")
        + (" STALLED" if r.stalled else "")
        for r in bad
    )
    found.append(
        Target(
            "zero non-2xx and socket errors at 32 connections", shown + " (non-2xx/socket)" if bad else "none", not bad
        )
    )
    return found


def _at_256(rows: dict[str, Row]) -> list[Target]:
    high = rows["list50_c256"]
    clean = not (high.non_2xx or high.socket_errors or high.timeouts or high.stalled) and high.preflight_ok
    value = f"{high.non_2xx} non-2xx, {high.socket_errors} socket errors ({high.timeouts} timeouts)"
    value += (", STALLED" if high.stalled else "") + (
        f"; bare ceiling: {rows['ceiling_c256'].socket_errors}" if "ceiling_c256" in rows else ""
    )
    return [
        Target("256 connections: zero non-2xx, socket errors, timeouts (5 s)", value, clean),
        Target(
            f"256 connections: p99 <= {P99_OVER_P50_AT_256} x p50",
            f"{_spread(high):.1f}x (p50 {high.p50_ms:.0f} ms, p99 {high.p99_ms:.0f} ms)",
            _spread(high) <= P99_OVER_P50_AT_256,
        ),
    ]


def export_targets(export: list[ExportRow]) -> list[Target]:
    """Per format: HTTP 200 and the worker's RSS growth under EXPORT_GROWTH_MB."""
    return [
        Target(
            f"export {r.format} ({r.todos:,} todos): RSS growth < {EXPORT_GROWTH_MB} MB",
            f"+{r.growth_mb:.1f} MB" + ("" if r.status == 200 else f" (HTTP {r.status})"),
            r.status == 200 and r.growth_mb < EXPORT_GROWTH_MB,
        )
        for r in export
    ]


def fanout_targets(fanout: FanoutResult | None, database: str) -> list[Target]:
    """The fan-out issue's four: p99 (stated for SQLite; elsewhere shown for reference), nothing
    lost or doubled, nothing sent to another user's socket, RSS growth for the open sockets."""
    if fanout is None:
        return []
    t = fanout.tally
    return [
        Target(
            f"fan-out: delivery p99 <= {FANOUT_P99_MS} ms ({database}, one worker)",
            f"{fanout.p99_ms:.1f} ms over {t.expected:,} deliveries",
            fanout.p99_ms <= FANOUT_P99_MS,
        ),
        Target(
            "fan-out: no event lost (each owner's socket got each event exactly once)",
            f"{t.lost} lost, {t.duplicated} duplicated of {t.expected:,}",
            t.lost == 0 and t.duplicated == 0,
        ),
        Target("fan-out: no event on another user's socket", f"{t.misdelivered} misdelivered", t.misdelivered == 0),
        Target(
            f"fan-out: RSS growth <= {FANOUT_GROWTH_MB} MB for {fanout.sockets} open sockets",
            f"+{fanout.growth_mb:.1f} MB",
            fanout.growth_mb <= FANOUT_GROWTH_MB,
        ),
    ]


def evaluate(
    rows: dict[str, Row],
    rss_mb: float,
    database: str,
    comparisons: list[Comparison],
    export: list[ExportRow],
    fanout: FanoutResult | None = None,
) -> list[Target]:
    found = [Target(t.name, f"{_frac(rows, t.row):.3f}", _frac(rows, t.row) >= t.need) for t in ISSUE5_TARGETS]
    found += _errors_at_32(rows)
    found += _at_256(rows)
    ratio = rows["list10k"].rps / rows["list50"].rps if rows["list50"].rps else 0.0
    found.append(
        Target(
            f"10,000-todo list >= {LIST10K_OVER_LIST50} x 50-todo list", f"{ratio:.2f}", ratio >= LIST10K_OVER_LIST50
        )
    )
    found.append(Target(f"peak RSS <= {PEAK_RSS_MB} MB", f"{rss_mb:.1f} MB", rss_mb <= PEAK_RSS_MB))
    for t in ISSUE12_TARGETS.get(database, []):
        found.append(Target(f"{database}: {t.name}", f"{_frac(rows, t.row):.3f}", _frac(rows, t.row) >= t.need))
    for c in comparisons:
        ratio = rows[c.row].rps / rows[c.base].rps if rows[c.base].rps else 0.0
        found.append(
            Target(c.name, f"{ratio:.2f} ({rows[c.row].rps:,.0f} vs {rows[c.base].rps:,.0f} req/s)", ratio >= c.need)
        )
    return found + fanout_targets(fanout, database) + export_targets(export)
