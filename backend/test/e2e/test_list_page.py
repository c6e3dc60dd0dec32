"""The list page people live in (issue: quick add, a list page people can live in): quick
add with and without JavaScript, inline edit, keyboard-only use, drag to reorder, bulk
actions with undo, the sidebar and its phone drawer, and a list shared between two people."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Server, SessionFactory, User, api_add_todo, api_register, api_token, days_from_today, new_user
from .pages import ListSettingsPage, TodoListPage
from .test_live_updates import _open_list

LIVE = 2000  # ms: a change made elsewhere shows within this


def _api_list(server: Server, token: str, name: str) -> int:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post("/lists/", json={"name": name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_quick_add_previews_and_adds_without_a_reload(
    open_page: SessionFactory, fresh_user: User, server: Server
) -> None:
    _api_list(server, api_token(server, fresh_user), "Work")
    todos = _open_list(open_page(fresh_user))

    todos.quick_text.fill("Call Ann tomorrow 9am #phone !4 @work every week")

    expect(todos.quick_chips).to_contain_text(
        ["Title: Call Ann", "Due: ", "List: Work", "Tag: #phone", "Priority: 4", "Repeats: weekly"]
    )
    todos.quick_text.press("Enter")
    expect(todos.titles).to_have_text(["Call Ann"], timeout=LIVE)
    expect(todos.live_status).to_have_text("Added to Work.")
    expect(todos.quick_text).to_have_value("")
    assert todos.same_document()
    item = todos.item("Call Ann")
    expect(item.locator(".tag-link")).to_have_text("#phone")
    expect(item.locator(".repeat-mark")).to_contain_text("Repeats weekly")
    expect(item.locator(".todo-list-name")).to_contain_text("Work")

    todos.quick_text.fill("Lunch @nowhere")
    expect(todos.quick_error).to_have_text("There is no list named “nowhere” that you can add to")
    todos.quick_text.press("Enter")
    expect(todos.quick_text).to_have_value("Lunch @nowhere")
    expect(todos.titles).to_have_count(1)


def test_quick_add_without_javascript(open_page: SessionFactory, fresh_user: User, server: Server) -> None:
    _api_list(server, api_token(server, fresh_user), "Work")
    page = open_page(fresh_user, js=False)
    todos = TodoListPage(page)
    todos.open("/todo-page?sort=title")

    todos.quick_text.fill("Send invoice friday #billing @Work")
    with page.expect_navigation():
        todos.quick_add_button.click()

    expect(todos.page_notice).to_have_text("Added to Work.")
    assert "sort=title" in page.url
    expect(todos.titles).to_have_text(["Send invoice"])

    todos.quick_text.fill("Lunch @nowhere")
    with page.expect_navigation():
        todos.quick_add_button.click()
    expect(todos.quick_error).to_have_text("There is no list named “nowhere” that you can add to.")
    expect(todos.quick_text).to_have_value("Lunch @nowhere")


def _user_with(server: Server, *titles: str, list_name: str | None = None) -> tuple[User, str, int | None]:
    user = new_user()
    api_register(server, user)
    token = api_token(server, user)
    list_id = _api_list(server, token, list_name) if list_name else None
    for title in titles:
        api_add_todo(server, token, title=title, **({"list_id": list_id} if list_id else {}))
    return user, token, list_id


def test_inline_edit_of_the_title(open_page: SessionFactory, server: Server) -> None:
    user, _, _ = _user_with(server, "Buy milk", "Call plumber")
    todos = _open_list(open_page(user))

    todos.item("Buy milk").locator(".todo-title").dblclick()
    expect(todos.inline_input).to_be_focused()
    todos.inline_input.fill("Buy oat milk")
    todos.inline_input.press("Enter")
    expect(todos.titles).to_have_text(["Call plumber", "Buy oat milk"])
    expect(todos.live_status).to_have_text("Saved “Buy oat milk”.")

    todos.item("Call plumber").locator(".todo-title").dblclick()
    todos.inline_input.fill("Something else")
    todos.inline_input.press("Escape")
    expect(todos.inline_input).to_have_count(0)
    expect(todos.titles).to_have_text(["Call plumber", "Buy oat milk"])
    expect(todos.item("Call plumber")).to_be_focused()
    todos.page.keyboard.press("Enter")
    todos.inline_input.fill("Call the plumber")
    todos.inline_input.press("Enter")
    assert todos.same_document()
    todos.open()
    expect(todos.titles).to_have_text(["Call the plumber", "Buy oat milk"])


def test_keyboard_only(open_page: SessionFactory, server: Server) -> None:
    user, _, _ = _user_with(server, "Third", "Second", "First")
    todos = _open_list(open_page(user))
    keys = todos.page.keyboard

    keys.press("?")
    expect(todos.shortcuts).to_be_visible()
    keys.press("Escape")
    expect(todos.shortcuts).to_be_hidden()

    keys.press("j")
    expect(todos.item("First")).to_be_focused()
    keys.press("j")
    expect(todos.item("Second")).to_be_focused()
    keys.press("k")
    expect(todos.item("First")).to_be_focused()
    keys.press("x")
    expect(todos.checkbox("First")).to_be_checked()
    expect(todos.item("First")).to_be_focused()

    keys.press("e")
    expect(todos.inline_input).to_be_focused()
    keys.type("j k x # ?")  # typed into the field: no shortcut fires
    expect(todos.shortcuts).to_be_hidden()
    keys.press("Escape")

    keys.press("n")
    expect(todos.quick_text).to_be_focused()
    keys.type("j?")
    expect(todos.quick_text).to_have_value("j?")
    expect(todos.shortcuts).to_be_hidden()
    todos.quick_text.fill("")
    todos.item("Second").focus()
    keys.press("/")
    expect(todos.page.get_by_label("Search")).to_be_focused()

    todos.item("Second").focus()
    keys.press("#")
    expect(todos.dialog).to_be_visible()
    todos.dialog.get_by_role("button", name="Delete").click()
    expect(todos.titles).to_have_text(["First", "Third"])
    assert todos.same_document()


def test_drag_to_reorder_is_kept(open_page: SessionFactory, server: Server) -> None:
    user, _, list_id = _user_with(server, "One", "Two", "Three", list_name="Errands")
    todos = _open_list(open_page(user), f"/todo-page?list_id={list_id}")
    expect(todos.heading).to_have_text("Errands")
    expect(todos.titles).to_have_text(["One", "Two", "Three"])

    todos.item("Three").drag_to(todos.item("One"), target_position={"x": 20, "y": 5})
    expect(todos.titles).to_have_text(["Three", "One", "Two"])
    expect(todos.live_status).to_have_text("Moved “Three”.")

    todos.item("One").get_by_role("button", name="Move down").click()
    expect(todos.titles).to_have_text(["Three", "Two", "One"])
    assert todos.same_document()
    todos.open(f"/todo-page?list_id={list_id}")
    expect(todos.titles).to_have_text(["Three", "Two", "One"])


def test_complete_all_shown_then_clear_completed_and_undo(open_page: SessionFactory, server: Server) -> None:
    user, _, _ = _user_with(server, "Alpha", "Beta")
    todos = _open_list(open_page(user))

    todos.bulk("Complete all shown").click()
    todos.confirm()
    expect(todos.page_notice).to_have_text("Completed 2 todos.")
    expect(todos.items.filter(has_not=todos.page.locator(".is-complete"))).to_have_count(2)
    expect(todos.page.locator(".todo.is-complete")).to_have_count(2)

    todos.bulk("Clear completed").click()
    expect(todos.dialog).to_contain_text("Move the completed todos of this view to the trash?")
    todos.confirm()
    expect(todos.page.locator("#cleared-notice")).to_contain_text("Moved 2 completed todos to the trash.")
    expect(todos.items).to_have_count(0)

    with todos.page.expect_navigation():
        todos.undo_cleared.click()
    expect(todos.page_notice).to_have_text("Restored 2 todos.")
    expect(todos.titles).to_have_text(["Beta", "Alpha"])


def test_sidebar_views_lists_tags_and_the_phone_drawer(open_page: SessionFactory, server: Server) -> None:
    user, token, list_id = _user_with(server, list_name="Home")
    api_add_todo(server, token, title="Due today", due_date=_today(0), tags=["chores"], list_id=list_id)
    api_add_todo(server, token, title="Due soon", due_date=_today(3))
    api_add_todo(server, token, title="Late", due_date=_today(-2))
    todos = _open_list(open_page(user))

    expect(todos.sidebar_link("Home")).to_contain_text("1")
    todos.sidebar_link("Today").click()
    expect(todos.heading).to_have_text("Today")
    expect(todos.titles).to_have_text(["Due today"])
    todos.sidebar_link("Upcoming").click()
    expect(todos.titles).to_have_text(["Due soon", "Due today"])
    todos.sidebar_link("Overdue").click()
    expect(todos.titles).to_have_text(["Late"])
    todos.sidebar_link("chores").click()
    expect(todos.titles).to_have_text(["Due today"])
    todos.sidebar_link("Home").click()
    expect(todos.heading).to_have_text("Home")

    phone = open_page(user, width=375)
    small = _open_list(phone)
    expect(small.sidebar).not_to_be_in_viewport()
    small.drawer_button.click()
    expect(small.sidebar).to_be_in_viewport()
    expect(small.sidebar_link("All todos")).to_be_focused()
    phone.keyboard.press("Escape")
    expect(small.sidebar).not_to_be_in_viewport()
    expect(small.drawer_button).to_be_focused()
    assert small.scroll_width() <= 375


def test_sharing_a_list_between_two_people(open_page: SessionFactory, server: Server) -> None:
    owner, _, list_id = _user_with(server, "Book the venue", list_name="Party")
    editor = new_user("editor")
    api_register(server, editor)
    owner_page = open_page(owner)
    owner_list = _open_list(owner_page, f"/todo-page?list_id={list_id}")

    settings_tab = owner_page.context.new_page()
    settings = ListSettingsPage(settings_tab)
    settings.open(f"/list-page/{list_id}")
    settings.share(editor.username, "editor")
    expect(settings.members).to_have_text([editor.username])

    editor_list = _open_list(open_page(editor))
    expect(editor_list.sidebar_link("Party")).to_contain_text("shared by")
    editor_list.sidebar_link("Party").click()
    expect(editor_list.titles).to_have_text(["Book the venue"])
    editor_list.wait_live()
    editor_list.quick_text.fill("Order the cake")
    editor_list.quick_text.press("Enter")
    expect(editor_list.titles).to_have_text(["Book the venue", "Order the cake"], timeout=LIVE)

    expect(owner_list.titles).to_have_text(["Book the venue", "Order the cake"], timeout=LIVE)
    expect(owner_list.item("Order the cake").locator(".todo-byline")).to_have_text(
        f"added by {editor.username} · changed by {editor.username}"
    )
    assert owner_list.same_document()


def _today(days: int) -> str:
    return days_from_today(days)
