"""The todo form's reminder choice, turned into the `remind_at` the JSON body takes, and back.

People pick "at the due time", "10 minutes / 1 hour / 1 day before" or a custom date and
time, all in their own time zone; the API takes one RFC 3339 moment. A todo edited with
its reminder left alone sends the stored moment back unchanged ("keep"), so a reminder that
has already gone off does not turn into "must be in the future".
"""

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from backend.core.zones import DAY_FORMAT, local, to_utc
from backend.schemas.forms import TodoForm

REMIND_CHOICES = {
    "": "No reminder",
    "due": "At the due time",
    "10m": "10 minutes before",
    "1h": "1 hour before",
    "1d": "1 day before",
    "custom": "At a time I choose",
}
BEFORE = {"due": timedelta(0), "10m": timedelta(minutes=10), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# A todo due on a day without a time is reminded relative to 09:00 that day.
ALL_DAY_AT = time(9, 0)
NEEDS_DUE_DATE = "Choose a due date for this reminder, or pick a time yourself"
NEEDS_CUSTOM = "Enter the date and time for the reminder"
CUSTOM_FORMAT = "%Y-%m-%dT%H:%M"

FieldErrors = dict[str, list[str]]


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _time(text: str | None) -> time | None:
    try:
        return time.fromisoformat(text) if text else None
    except ValueError:
        return None


def _remind_at(form: TodoForm, zone: str) -> tuple[str | None, FieldErrors]:
    choice = form.remind
    if choice == "keep":
        return form.remind_keep or None, {}
    if choice in BEFORE:
        day = _date(form.due_date)
        if day is None:
            return None, {"remind": [NEEDS_DUE_DATE]}
        moment = to_utc(day, _time(form.due_time) or ALL_DAY_AT, zone) - BEFORE[choice]
        return moment.isoformat(), {}
    if choice == "custom":
        try:
            wall = datetime.strptime(form.remind_custom.strip(), CUSTOM_FORMAT)
        except ValueError:
            return None, {"remind_custom": [NEEDS_CUSTOM]}
        return to_utc(wall.date(), wall.time(), zone).isoformat(), {}
    return None, {}


def body_from_form(form: TodoForm, zone: str) -> tuple[dict[str, object], FieldErrors]:
    """What `TodoCreate` validates, and any error in the reminder choice itself."""
    body = form.model_dump(exclude={"remind", "remind_custom", "remind_keep", "version"})
    body["remind_at"], errors = _remind_at(form, zone)
    return body, errors


def form_values(todo: Mapping[str, object]) -> dict[str, object]:
    """An existing todo as its edit form shows it: its reminder offered as "keep"."""
    remind_at = todo.get("remind_at")
    return {**todo, "remind": "keep" if remind_at else "", "remind_keep": remind_at or ""}


def reminder_field(choice: object) -> str:
    """The form field that shows an error about `remind_at`."""
    return "remind_custom" if choice == "custom" else "remind"


def reminder_label(remind_at: str | None, zone: str) -> str:
    """A stored reminder as people read it in their zone: `24 Dec 2026, 09:30`."""
    if not remind_at:
        return ""
    return local(datetime.fromisoformat(remind_at), zone).strftime(f"{DAY_FORMAT}, %H:%M")
