"""services.todos against the test database: owner scoping, counters, listing, display helpers."""

from datetime import date

import pytest
from sqlalchemy.orm import Session

from backend.core.errors import NotAuthenticated, NotFound
from backend.schemas.todos import AdminTodoRead, TodoCreate, TodoQuery, TodoRead
from backend.services import todos as todo_service
from backend.services import users as user_service
from backend.services.todos import TodoRow
from backend.test.factories import count_todos, counted_todos, make_todo, make_user, principal_of

TODAY = date(2026, 12, 5)


def due_row(todo_id: int, due_date: str | None, *, complete: bool = False) -> TodoRow:
    """A row as reads return it; the display helpers look at its date and completion."""
    stamp = "2026-06-01T08:00:00.000000Z"
    return {
        "id": todo_id,
        "owner_id": 1,
        "title": f"Todo {todo_id}",
        "description": "",
        "priority": 3,
        "complete": complete,
        "due_date": due_date,
        "due_time": None,
        "remind_at": None,
        "created_at": stamp,
        "updated_at": stamp,
        "list_id": 1,
        "position": todo_id,
        "tags": [],
        "repeat": None,
        "created_by": None,
        "updated_by": None,
    }


class TestRowShape:
    def test_every_row_has_the_read_schemas_fields_in_order(self, db_session: Session) -> None:
        # Rows go to JSON as they are: their key order is the order of the response's fields.
        owner = make_user(db_session)
        principal = principal_of(db_session, owner.id)
        created = make_todo(db_session, owner.id, due_date=date(2026, 12, 24))
        replaced = todo_service.replace(db_session, principal=principal, todo=created, data=TodoCreate(title="New"))
        toggled = todo_service.set_complete(db_session, principal=principal, todo=replaced, complete=True)
        read = todo_service.get_for_owner(db_session, todo_id=created["id"], owner_id=owner.id)
        listed, _ = todo_service.list_visible(
            db_session, principal=principal_of(db_session, owner.id), query=TodoQuery(), today=TODAY
        )
        [admin_row], _ = todo_service.list_all(db_session, owner=None, limit=1, offset=0)

        for row in (created, replaced, toggled, read, *listed):
            assert list(row) == list(TodoRead.model_fields)
        assert list(admin_row) == list(AdminTodoRead.model_fields)
        assert toggled == read


class TestCreate:
    def test_returns_the_row_as_the_api_shows_it(self, db_session: Session) -> None:
        owner = make_user(db_session)
        data = TodoCreate(title="  Buy milk ", description="2 litres", priority=4, due_date=date(2026, 12, 24))

        row = todo_service.create(db_session, principal=principal_of(db_session, owner.id), data=data)

        assert row["title"] == "Buy milk"
        assert row["owner_id"] == owner.id
        assert row["due_date"] == "2026-12-24"
        assert row == todo_service.get_for_owner(db_session, todo_id=row["id"], owner_id=owner.id)

    def test_keeps_the_owners_counter_in_step(self, db_session: Session) -> None:
        owner = make_user(db_session)

        for _ in range(3):
            make_todo(db_session, owner.id)

        assert counted_todos(db_session, owner.id) == 3


class TestGetForOwner:
    def test_someone_elses_todo_is_not_found(self, db_session: Session) -> None:
        owner, stranger = make_user(db_session), make_user(db_session)
        todo = make_todo(db_session, owner.id)

        with pytest.raises(NotFound):
            todo_service.get_for_owner(db_session, todo_id=todo["id"], owner_id=stranger.id)

    def test_missing_todo_is_not_found(self, db_session: Session) -> None:
        owner = make_user(db_session)

        with pytest.raises(NotFound):
            todo_service.get_for_owner(db_session, todo_id=123456, owner_id=owner.id)


class TestReplace:
    def test_replaces_fields_and_moves_updated_at(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo = make_todo(db_session, owner.id, title="Old", priority=1)

        data = TodoCreate(title="New", priority=5, complete=True)
        row = todo_service.replace(db_session, principal=principal_of(db_session, owner.id), todo=todo, data=data)

        stored = todo_service.get_for_owner(db_session, todo_id=todo["id"], owner_id=owner.id)
        assert stored == row
        assert (stored["title"], stored["priority"], stored["complete"]) == ("New", 5, True)
        assert stored["created_at"] == todo["created_at"]
        assert stored["updated_at"] > todo["updated_at"]

    def test_set_complete_changes_only_completion(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo = make_todo(db_session, owner.id, title="Keep", priority=2)

        todo_service.set_complete(db_session, principal=principal_of(db_session, owner.id), todo=todo, complete=True)

        stored = todo_service.get_for_owner(db_session, todo_id=todo["id"], owner_id=owner.id)
        assert (stored["title"], stored["priority"], stored["complete"]) == ("Keep", 2, True)


class TestDelete:
    def test_delete_for_owner_removes_and_counts_down(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo, _ = make_todo(db_session, owner.id), make_todo(db_session, owner.id)

        todo_service.delete_visible(db_session, principal=principal_of(db_session, owner.id), todo_id=todo["id"])

        assert count_todos(db_session, owner.id) == 1
        assert counted_todos(db_session, owner.id) == 1

    def test_delete_for_another_owner_is_not_found_and_keeps_the_row(self, db_session: Session) -> None:
        owner, stranger = make_user(db_session), make_user(db_session)
        todo = make_todo(db_session, owner.id)

        with pytest.raises(NotFound):
            todo_service.delete_visible(db_session, principal=principal_of(db_session, stranger.id), todo_id=todo["id"])

        assert count_todos(db_session, owner.id) == 1
        assert counted_todos(db_session, owner.id) == 1
        assert counted_todos(db_session, stranger.id) == 0

    def test_delete_any_counts_down_the_real_owner(self, db_session: Session) -> None:
        owner, admin = make_user(db_session), make_user(db_session, role="admin")
        todo = make_todo(db_session, owner.id)

        todo_service.delete_any(db_session, principal=principal_of(db_session, admin.id), todo_id=todo["id"])

        assert count_todos(db_session) == 0
        assert counted_todos(db_session, owner.id) == 0

    def test_delete_any_missing_is_not_found(self, db_session: Session) -> None:
        admin = principal_of(db_session, make_user(db_session, role="admin").id)

        with pytest.raises(NotFound):
            todo_service.delete_any(db_session, principal=admin, todo_id=987654)


class TestListForOwner:
    def test_unfiltered_total_is_the_owners_counter(self, db_session: Session) -> None:
        owner = make_user(db_session)
        make_todo(db_session, owner.id)

        rows, total = todo_service.list_visible(
            db_session, principal=principal_of(db_session, owner.id), today=TODAY, query=TodoQuery()
        )

        assert len(rows) == 1
        assert total == 1

    def test_filtered_full_page_counts_in_the_database(self, db_session: Session) -> None:
        owner = make_user(db_session)
        for _ in range(3):
            make_todo(db_session, owner.id, priority=5)
        make_todo(db_session, owner.id, priority=1)

        rows, total = todo_service.list_visible(
            db_session, principal=principal_of(db_session, owner.id), today=TODAY, query=TodoQuery(priority=5, limit=2)
        )

        assert len(rows) == 2
        assert total == 3

    def test_search_escapes_backslashes(self, db_session: Session) -> None:
        owner = make_user(db_session)
        hit = make_todo(db_session, owner.id, title="C:\\temp\\new")
        make_todo(db_session, owner.id, title="C:tempnew")

        rows, _ = todo_service.list_visible(
            db_session, principal=principal_of(db_session, owner.id), today=TODAY, query=TodoQuery(q="\\temp\\")
        )

        assert [row["id"] for row in rows] == [hit["id"]]

    def test_rows_carry_the_read_fields_in_text_form(self, db_session: Session) -> None:
        owner = make_user(db_session)
        make_todo(db_session, owner.id, due_date=date(2027, 1, 2))

        (row,), _ = todo_service.list_visible(
            db_session, principal=principal_of(db_session, owner.id), today=TODAY, query=TodoQuery()
        )

        assert row["due_date"] == "2027-01-02"
        assert row["created_at"].endswith("Z")


class TestListAll:
    def test_owner_filter_ignores_case_and_names_the_owner(self, db_session: Session) -> None:
        owner, other = make_user(db_session, username="CamelOwner"), make_user(db_session)
        mine = make_todo(db_session, owner.id)
        make_todo(db_session, other.id)

        rows, total = todo_service.list_all(db_session, owner="camelowner", limit=10, offset=0)

        assert [(row["id"], row["owner"]) for row in rows] == [(mine["id"], "CamelOwner")]
        assert total == 1

    def test_pages_newest_first_with_the_full_total(self, db_session: Session) -> None:
        owner = make_user(db_session)
        created = [make_todo(db_session, owner.id)["id"] for _ in range(3)]

        rows, total = todo_service.list_all(db_session, owner=None, limit=2, offset=1)

        assert [row["id"] for row in rows] == created[::-1][1:3]
        assert total == 3


class TestDisplayHelpers:
    TODAY = date(2026, 6, 15)

    @pytest.mark.parametrize(
        ("due", "complete", "overdue"),
        [("2026-06-14", False, True), ("2026-06-14", True, False), ("2026-06-15", False, False), (None, False, False)],
    )
    def test_is_overdue(self, due: str | None, complete: bool, overdue: bool) -> None:
        assert todo_service.is_overdue(due_row(1, due, complete=complete), self.TODAY) is overdue

    def test_for_display_labels(self) -> None:
        rows = [due_row(1, "2026-06-15"), due_row(2, "2026-07-01"), due_row(3, None)]

        shown = todo_service.for_display(rows, self.TODAY)

        assert [row["due_label"] for row in shown] == ["today", "01 Jul 2026", ""]
        assert [row["overdue"] for row in shown] == [False, False, False]


class TestGuardedWrites:
    """Every write re-checks the session in its own statement (issue: in-flight revocation)."""

    def test_a_write_after_logout_changes_nothing(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo = make_todo(db_session, owner.id, title="Before")
        principal = principal_of(db_session, owner.id)
        user_service.revoke_token(
            db_session, user_id=owner.id, session_id=principal.session_id, expires_at=principal.expires_at
        )

        with pytest.raises(NotAuthenticated):
            todo_service.replace(db_session, principal=principal, todo=todo, data=TodoCreate(title="After"))
        with pytest.raises(NotAuthenticated):
            todo_service.create(db_session, principal=principal, data=TodoCreate(title="New"))
        with pytest.raises(NotAuthenticated):
            todo_service.delete_visible(db_session, principal=principal, todo_id=todo["id"])

        db_session.rollback()
        assert todo_service.get_for_owner(db_session, todo_id=todo["id"], owner_id=owner.id)["title"] == "Before"
        assert count_todos(db_session, owner.id) == 1

    def test_a_write_after_a_password_change_changes_nothing(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo = make_todo(db_session, owner.id)
        stale = principal_of(db_session, owner.id)
        user_service.change_password(db_session, principal=principal_of(db_session, owner.id), hashed_password="x")

        with pytest.raises(NotAuthenticated):
            todo_service.set_complete(db_session, principal=stale, todo=todo, complete=True)

    def test_a_write_to_a_todo_deleted_meanwhile_is_not_found(self, db_session: Session) -> None:
        owner = make_user(db_session)
        todo = make_todo(db_session, owner.id)
        principal = principal_of(db_session, owner.id)
        todo_service.delete_visible(db_session, principal=principal, todo_id=todo["id"])

        with pytest.raises(NotFound):
            todo_service.replace(db_session, principal=principal, todo=todo, data=TodoCreate(title="Ghost"))
        db_session.rollback()

        assert count_todos(db_session, owner.id) == 0
        assert counted_todos(db_session, owner.id) == 0
