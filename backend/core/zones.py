"""Time zones: a user's IANA zone name, checked, and what "now" and "today" are there."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"
DAY_FORMAT = "%d %b %Y"  # how every page writes a date: 01 Jul 2026
MAX_ZONE_CHARS = 64
ZONE_MESSAGE = "Time zone must be a name from the time zone list, such as Europe/Berlin or UTC."
# Files of the tz database that are not places: the machine's own zone and a placeholder.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
# The regions of canonical "Area/Location" names, which a list offered to people shows
# (older aliases such as "US/Pacific" or "Etc/GMT+5" stay valid when typed).
_AREAS = tuple(
    f"{area}/"
    for area in (
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    )
)


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA name this machine's tz database knows ("Europe/Berlin", "UTC", …)."""
    return frozenset(available_timezones()) - _NOT_ZONES


@lru_cache(maxsize=1)
def listed_zones() -> tuple[str, ...]:
    """The zone names a chooser offers, sorted: UTC and every "Area/Location" name."""
    return ("UTC", *sorted(name for name in zone_names() if name.startswith(_AREAS)))


def is_zone(name: str) -> bool:
    """True for a known IANA zone name (exact spelling, as browsers report them)."""
    return len(name) <= MAX_ZONE_CHARS and name in zone_names()


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`; UTC for a name that is not (or no longer) known."""
    try:
        return ZoneInfo(name) if is_zone(name) else ZoneInfo(DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def today_in(name: str, *, now: datetime | None = None) -> date:
    """The calendar date in zone `name` at `now` (default: this moment)."""
    return (now or datetime.now(UTC)).astimezone(zone(name)).date()


def to_utc(day: date, at: time, name: str) -> datetime:
    """The UTC moment of wall-clock `day` `at` in zone `name` (the earlier one when clocks go back)."""
    return datetime.combine(day, at, tzinfo=zone(name)).astimezone(UTC)


def local(moment: datetime, name: str) -> datetime:
    """`moment` as wall-clock time in zone `name`."""
    return moment.astimezone(zone(name))


def shift_days(moment: datetime, days: int, name: str) -> datetime:
    """The same wall-clock time `days` later in the zone `name`, in UTC (across DST changes too)."""
    here = zone(name)
    wall = moment.astimezone(here).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=here).astimezone(UTC)


def day_label(day: date, today: date) -> str:
    """A date as the pages show it: "today", or `01 Jul 2026`."""
    return "today" if day == today else day.strftime(DAY_FORMAT)
