"""The fan-out row's arithmetic, kept apart from its sockets so it can be tested alone:
percentiles of the delivery latencies, and the count of lost, doubled and misdelivered events.

"No event lost" means: every socket of a change's owner got that change's event exactly
once, and no socket got an event of another user's change.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank `q`th percentile (0 < q <= 100): the smallest value with at least q% of
    the values at or below it. No interpolation: p99 of 10,000 deliveries is a real delivery."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Tally:
    """Deliveries against what each socket should have got."""

    expected: int  # (change x socket of its owner) pairs
    delivered: int  # of those, the ones that arrived (once or more)
    lost: int  # expected and never arrived
    duplicated: int  # arrivals beyond the first of the same change on the same socket
    misdelivered: int  # arrivals of a change on a socket whose user does not own it (or an unknown change)


def tally(owners: Mapping[int, int], sockets: Iterable[tuple[int, Iterable[int]]]) -> Tally:
    """`owners`: change number -> the user who made it; `sockets`: (user, the change numbers
    its socket received, in any order) for every open socket."""
    by_user: dict[int, list[int]] = {}
    for change, user in owners.items():
        by_user.setdefault(user, []).append(change)
    expected = delivered = duplicated = misdelivered = 0
    for user, received in sockets:
        counts = Counter(received)
        own = by_user.get(user, [])
        expected += len(own)
        delivered += sum(1 for change in own if counts[change])
        duplicated += sum(n - 1 for change, n in counts.items() if owners.get(change) == user and n > 1)
        misdelivered += sum(n for change, n in counts.items() if owners.get(change) != user)
    return Tally(expected, delivered, expected - delivered, duplicated, misdelivered)


@dataclass
class FanoutResult:
    """What the fan-out row measured (fanout.py) and the report shows."""

    users: int
    sockets: int  # opened
    changes: int  # made through the API (all answered 2xx, or the run fails as a set-up error)
    open_seconds: float
    change_seconds: float
    rss_before_mb: float  # the worker before the first socket
    rss_open_mb: float  # with every socket open, before the first change
    rss_peak_mb: float  # the largest while the changes were delivered
    p50_ms: float
    p99_ms: float
    max_ms: float
    tally: Tally
    closed_early: int  # sockets the server closed before the end (each one's missing events count as lost)

    @property
    def growth_mb(self) -> float:
        return self.rss_open_mb - self.rss_before_mb

    def as_json(self) -> dict[str, object]:
        found = asdict(self)
        found["tally"] = asdict(self.tally)
        return {**found, "growth_mb": round(self.growth_mb, 1)}
