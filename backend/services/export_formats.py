"""The export's three formats, written as the rows arrive: CSV, JSON and iCalendar.

- CSV: a header row, then one line per todo with `TodoRead`'s fields.
- JSON: a list of `TodoRead` objects.
- iCalendar: one `VTODO` per todo (UID, SUMMARY, DESCRIPTION, DUE, PRIORITY, STATUS,
  CREATED, LAST-MODIFIED), built with the icalendar library.

Each generator takes the rows in batches (services/export.py) and yields one piece of text
per batch, so nothing holds the whole export.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import orjson

from backend.core.zones import zone
from backend.schemas.todos import TodoRead
from backend.services.todos import TodoRow

if TYPE_CHECKING:
    from icalendar import Todo as VTodo

CSV_FIELDS = tuple(TodoRead.model_fields)
# Our 1 (low) … 5 (high) on iCalendar's 1 (highest) … 9 (lowest) scale (RFC 5545 3.8.1.9).
ICAL_PRIORITY = {5: 1, 4: 3, 3: 5, 2: 7, 1: 9}
CALENDAR_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//todo-app//export//EN\r\nCALSCALE:GREGORIAN\r\n"
CALENDAR_TAIL = "END:VCALENDAR\r\n"


def csv_chunks(batches: Iterable[list[TodoRow]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for chunk in batches:
        # Tags as one cell, space-separated ("home work"), as the importer reads them.
        writer.writerows({**row, "tags": " ".join(row["tags"])} for row in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_chunks(batches: Iterable[list[TodoRow]]) -> Iterator[bytes]:
    yield b"["
    first = True
    for chunk in batches:
        body = b",".join(orjson.dumps(row) for row in chunk)
        yield body if first else b"," + body
        first = False
    yield b"]"


def vtodo(row: TodoRow, domain: str, *, zone_name: str = "UTC", with_tzid: bool = True) -> "VTodo":
    """One todo as an iCalendar VTODO; its UID stays the same across exports.

    DUE is a DATE (all day) without a due time, else a DATE-TIME: the wall-clock time in
    zone `zone_name` with its TZID (the caller adds the VTIMEZONE), or, `with_tzid` false,
    that moment in UTC (`Z`; for a stream that cannot add VTIMEZONEs afterwards). A
    reminder is a VALARM at its moment (UTC).
    """
    # Imported when first used: icalendar adds 3.3 MB to a worker that never exports
    # or serves a feed (issue 12's 150 MB per worker).
    from icalendar import Alarm  # noqa: PLC0415
    from icalendar import Todo as VTodo  # noqa: PLC0415

    item = VTodo()
    item.add("uid", f"todo-{row['id']}@{domain}")
    item.add("dtstamp", datetime.fromisoformat(row["updated_at"]))
    item.add("created", datetime.fromisoformat(row["created_at"]))
    item.add("last-modified", datetime.fromisoformat(row["updated_at"]))
    item.add("summary", row["title"])
    if row["description"]:
        item.add("description", row["description"])
    if row["due_date"]:
        day = date.fromisoformat(row["due_date"])
        if row["due_time"] is None:
            item.add("due", day)
        else:
            due = datetime.combine(day, time.fromisoformat(row["due_time"]), tzinfo=zone(zone_name))
            item.add("due", due if with_tzid else due.astimezone(UTC))
    item.add("priority", ICAL_PRIORITY[row["priority"]])
    item.add("status", "COMPLETED" if row["complete"] else "NEEDS-ACTION")
    if row["remind_at"]:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", row["title"])
        alarm.add("trigger", datetime.fromisoformat(row["remind_at"]))
        item.add_component(alarm)
    return item


def ics_chunks(batches: Iterable[list[TodoRow]], domain: str, zone_name: str) -> Iterator[str]:
    yield CALENDAR_HEAD
    for chunk in batches:
        yield "".join(vtodo(row, domain, zone_name=zone_name, with_tzid=False).to_ical().decode() for row in chunk)
    yield CALENDAR_TAIL
