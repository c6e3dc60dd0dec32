"""core.secret_paths: what logs and traces show of a path that carries a secret."""

import pytest

from backend.core.secret_paths import has_secret, shown_path


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/calendar/Zm9vYmFyYmF6-_x.ics", "/calendar/***.ics"),
        ("/calendar/Zm9vYmFyYmF6", "/calendar/***"),
        ("/calendar/a.b.c.ics", "/calendar/***.ics"),
        ("/calendar/token.not-an-extension", "/calendar/***"),
        ("/calendar/", "/calendar/***"),
        ("/todos/calendar/x.ics", "/todos/calendar/x.ics"),
        ("/todo-page", "/todo-page"),
    ],
)
def test_the_secret_part_is_replaced(path: str, shown: str) -> None:
    assert shown_path(path) == shown
    assert has_secret(path) is (shown != path)
