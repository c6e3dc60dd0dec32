"""The edit page's conflict and deleted screens: a todo's fields as people read them.

When the todo changed (or went) while someone edited it, the page shows the version saved
elsewhere beside what they typed, field by field, in words that need no colour to compare.
"""

from collections.abc import Mapping
from typing import NamedTuple

from backend.schemas.forms import TodoForm
from backend.schemas.todo_form import REMIND_CHOICES, body_from_form, reminder_label

FIELDS = {
    "title": "Title",
    "description": "Description",
    "priority": "Priority",
    "complete": "Done",
    "due_date": "Due date",
    "due_time": "Due time",
    "remind_at": "Reminder",
}
NOT_SET = "Not set"


class VersionRow(NamedTuple):
    """One field of the conflict table; `priority` values are numbers the template names."""

    field: str
    label: str
    theirs: object
    mine: object
    differs: bool


def shown(todo: Mapping[str, object], zone: str) -> dict[str, object]:
    """A todo (a stored row or a form's body) as the screens print it."""
    remind_at = todo.get("remind_at")
    return {
        "title": todo.get("title") or "",
        "description": todo.get("description") or NOT_SET,
        "priority": todo.get("priority"),
        "complete": "Yes" if todo.get("complete") else "No",
        "due_date": todo.get("due_date") or NOT_SET,
        "due_time": todo.get("due_time") or NOT_SET,
        "remind_at": reminder_label(str(remind_at), zone) if remind_at else REMIND_CHOICES[""],
    }


def typed(form: TodoForm, zone: str) -> dict[str, object]:
    """What was typed into the edit form, as the screens print it (even when not valid)."""
    body, errors = body_from_form(form, zone)
    fields = shown(body, zone)
    if errors:  # no moment to show: say what was chosen
        fields["remind_at"] = f"{REMIND_CHOICES.get(form.remind, form.remind)} {form.remind_custom}".strip()
    return fields


def side_by_side(theirs: Mapping[str, object], form: TodoForm, zone: str) -> list[VersionRow]:
    """The stored version and the typed one, field by field, each marked when they differ."""
    stored, mine = shown(theirs, zone), typed(form, zone)
    return [
        VersionRow(field, label, stored[field], mine[field], str(stored[field]) != str(mine[field]))
        for field, label in FIELDS.items()
    ]
