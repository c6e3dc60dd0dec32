"""schemas.paging: the range and page links of a listing page."""

import pytest

from backend.schemas.paging import pagination


@pytest.mark.parametrize(
    ("total", "limit", "offset", "expected"),
    [
        (0, 10, 0, {"first": 0, "last": 0, "total": 0, "prev_offset": None, "next_offset": None}),
        (25, 10, 0, {"first": 1, "last": 10, "total": 25, "prev_offset": None, "next_offset": 10}),
        (25, 10, 10, {"first": 11, "last": 20, "total": 25, "prev_offset": 0, "next_offset": 20}),
        (25, 10, 20, {"first": 21, "last": 25, "total": 25, "prev_offset": 10, "next_offset": None}),
        (25, 10, 5, {"first": 6, "last": 15, "total": 25, "prev_offset": 0, "next_offset": 15}),
    ],
)
def test_pagination(total: int, limit: int, offset: int, expected: dict[str, int | None]) -> None:
    assert pagination(total, limit, offset) == expected
