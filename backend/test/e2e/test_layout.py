"""Every page at phone and desktop width: screenshots, no sideways scrolling, labels on
every control, readable contrast, visible focus and a sensible tab order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import FilePayload, Page, expect

from .conftest import SCREENSHOTS, SessionFactory, User
from .pages import LoginPage, RegisterPage, TodoFormPage, TodoListPage

WIDTHS = (1280, 375)

# Text nodes whose contrast against their (blended) background is below WCAG AA.
CONTRAST_PROBLEMS = """
(rootSelector) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const blend = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) bg = blend(layer, bg);
    return bg;
  };
  const problems = [];
  const root = document.querySelector(rootSelector);
  for (const el of root.querySelectorAll("*")) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility !== "visible" || box.width <= 1 || box.height <= 1) continue;
    const bg = background(el);
    const fg = blend(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      const text = el.textContent.trim().slice(0, 40);
      problems.push(`${el.tagName.toLowerCase()}.${el.className} "${text}": ${ratio.toFixed(2)}`);
    }
  }
  return problems;
}
"""

# Visible form controls without a label (hidden inputs and hidden helpers excluded).
UNLABELLED = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && !el.hidden && el.getClientRects().length > 0)
  .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
  .map((el) => el.outerHTML)
"""


@dataclass(frozen=True)
class Screen:
    name: str
    who: str  # "anonymous", "reader", "fresh" or "admin"
    show: Callable[[Page], None]
    js: bool = True
    status: int = 200
    root: str = "body"


def _goto(path: str) -> Callable[[Page], None]:
    def show(page: Page) -> None:
        page.goto(path)

    return show


def _login_error(page: Page) -> None:
    LoginPage(page).open()
    LoginPage(page).login("nobody-here", "not-a-real-password")


def _register_errors(page: Page) -> None:
    RegisterPage(page).open()
    RegisterPage(page).register("x", "not-an-email", "", "Hopper", "123")


def _first_todo(page: Page, prefix: str) -> None:
    page.goto("/todo-page")
    todo_id = TodoListPage(page).items.first.get_attribute("data-todo-id")
    page.goto(f"{prefix}/{todo_id}")


def _add_errors(page: Page) -> None:
    form = TodoFormPage(page)
    form.open()
    form.fill(title="   ", due_date="")
    form.submit()


def _edit_submitted(page: Page, *, version: str | None = None, action: str | None = None) -> None:
    """Submit the first todo's edit form as if it were stale (`version`) or its todo gone
    (`action`): the screen shows, nothing is written."""
    _first_todo(page, "/edit-todo-page")
    form = TodoFormPage(page)
    if version is not None:
        form.form.locator("input[name=version]").evaluate("(input, value) => { input.value = value; }", version)
    if action is not None:
        form.form.evaluate("(form, action) => { form.action = action; }", action)
    form.fill(title="What I typed")
    form.submit()


def _account_errors(page: Page) -> None:
    page.goto("/account-page")
    page.get_by_role("textbox", name="Phone number").fill("call me maybe")
    with page.expect_navigation():
        page.get_by_role("button", name="Save phone number").click()


def _import_problems(page: Page) -> None:
    page.goto("/todo-page")
    bad_file: FilePayload = {"name": "todos.json", "mimeType": "application/json", "buffer": b'[{"title": ""}]'}
    page.get_by_label("Import todos from a CSV or JSON file").set_input_files(files=[bad_file])
    with page.expect_navigation():
        page.get_by_role("button", name="Import", exact=True).click()


def _admin_ask(page: Page) -> None:
    """The first "Deactivate …" of the admin page: its dialog, or its confirmation page without scripts."""
    page.goto("/admin-page")
    page.locator("#users-table").get_by_role("link", name="Deactivate").first.click()
    expect(page.locator("dialog#confirm-dialog[open], #confirm-heading")).to_be_visible()


def _delete_dialog(page: Page) -> None:
    page.goto("/todo-page")
    todos = TodoListPage(page)
    todos.items.first.get_by_role("link", name="Delete").click()
    expect(todos.dialog).to_be_visible()


SCREENS = [
    Screen("login", "anonymous", _goto("/login-page")),
    Screen("login-error", "anonymous", _login_error),
    Screen("register", "anonymous", _goto("/register-page")),
    Screen("register-errors", "anonymous", _register_errors),
    Screen("forgot-password", "anonymous", _goto("/forgot-password-page")),
    Screen("import-problems", "reader", _import_problems),
    Screen("reset-password", "anonymous", _goto("/reset-password-page?token=from-the-mail")),
    Screen("reset-password-no-link", "anonymous", _goto("/reset-password-page")),
    Screen("todos", "reader", _goto("/todo-page")),
    Screen("todos-nojs", "reader", _goto("/todo-page"), js=False),
    Screen("todos-filtered-empty", "reader", _goto("/todo-page?q=nothing-matches-this&complete=false")),
    Screen("todos-empty", "fresh", _goto("/todo-page")),
    Screen("todos-delete-dialog", "reader", _delete_dialog, root="dialog"),
    Screen("todo-add", "reader", _goto("/add-todo-page")),
    Screen("todo-add-errors", "reader", _add_errors),
    Screen("todo-edit", "reader", lambda page: _first_todo(page, "/edit-todo-page")),
    Screen("todo-edit-conflict", "reader", lambda page: _edit_submitted(page, version='W/"stale"'), status=409),
    Screen("todo-edit-deleted", "reader", lambda page: _edit_submitted(page, action="/edit-todo-page/2147483647")),
    Screen("todo-delete-confirm", "reader", lambda page: _first_todo(page, "/delete-todo-page")),
    Screen("account", "reader", _goto("/account-page")),
    Screen("account-errors", "reader", _account_errors),
    Screen("admin", "admin", _goto("/admin-page")),
    Screen("admin-nojs", "admin", _goto("/admin-page"), js=False),
    Screen("admin-search-empty", "admin", _goto("/admin-page?q=nothing-matches-this")),
    Screen("admin-notice", "admin", _goto("/admin-page?done=deactivated&who=someone")),
    Screen("admin-dialog", "admin", _admin_ask, root="dialog"),
    Screen("admin-confirm", "admin", _admin_ask, js=False),
    Screen("error-403", "reader", _goto("/admin-page")),
    Screen("error-404", "reader", _goto("/edit-todo-page/2147483647")),
]


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.name)
def test_page_layout(
    screen: Screen, width: int, open_page: SessionFactory, reader: User, admin: User, fresh_user: User
) -> None:
    user = {"anonymous": None, "reader": reader, "admin": admin, "fresh": fresh_user}[screen.who]
    page = open_page(user, js=screen.js, width=width)
    screen.show(page)
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{screen.name}-{width}.png", full_page=True)

    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 246, 248)", "CSS not applied"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(CONTRAST_PROBLEMS, screen.root) == []
    assert page.locator("h1").count() == 1 or screen.root == "dialog"


def test_no_page_scrolls_sideways_at_360px(
    open_page: SessionFactory, reader: User, admin: User, fresh_user: User
) -> None:
    users = {"anonymous": None, "reader": reader, "admin": admin, "fresh": fresh_user}
    too_wide = {}
    for screen in SCREENS:
        page = open_page(users[screen.who], js=screen.js, width=360)
        screen.show(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[screen.name] = width
        page.context.close()
    assert too_wide == {}


def _tab_stops(page: Page, count: int) -> list[tuple[str, str]]:
    """Press Tab `count` times; each stop's accessible-ish name and its focus outline."""
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                """() => {
                  const el = document.activeElement;
                  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
                  const name = (label || el.innerText || el.value || el.tagName).replace(/\\s+/g, " ").trim();
                  const s = getComputedStyle(el);
                  const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 ? "ring" : "NO RING";
                  return [name, ring];
                }"""
            )
        )
    return [tuple(stop) for stop in stops]


def test_tab_order_and_focus_rings_on_the_todo_list(open_page: SessionFactory, reader: User) -> None:
    page = open_page(reader)
    page.goto("/todo-page")
    first_title = TodoListPage(page).titles.first.inner_text()
    second_title = TodoListPage(page).titles.nth(1).inner_text()
    stops = _tab_stops(page, 28)
    assert [name for name, _ in stops] == [
        "Skip to content",
        "✓ Todo",
        "Todos",
        "Add",
        "Account",
        "Log out",
        "All todos",  # the sidebar: views, lists, a new list, tags
        "Today",
        "Upcoming next 7 days",
        "Overdue",
        "Inbox 3 open",
        "New list",
        "Create",
        "Add a todo",
        "Quick add",
        "Add",
        "Search",
        "Status",
        "Priority",
        "Sort",
        "Apply",
        "Complete all shown",
        "Clear completed",
        f"Done: {first_title}",
        "List: Inbox",
        f"Edit “{first_title}”",
        f"Delete “{first_title}”",
        f"Done: {second_title}",
    ]
    assert [ring for _, ring in stops] == ["ring"] * len(stops)


def test_tab_order_on_the_login_form(open_page: SessionFactory) -> None:
    page = open_page()
    LoginPage(page).open()
    expect(page.get_by_label("Username")).to_be_focused()
    stops = _tab_stops(page, 4)
    assert stops == [
        ("Password", "ring"),
        ("Log in", "ring"),
        ("Forgot your password?", "ring"),
        ("Create an account", "ring"),
    ]


def test_the_delete_dialog_is_keyboard_friendly(open_page: SessionFactory, fresh_user: User) -> None:
    page = open_page(fresh_user)
    TodoFormPage(page).add(title="Keyboard only")
    todos = TodoListPage(page)
    todos.delete_link("Keyboard only").focus()
    page.keyboard.press("Enter")
    expect(todos.dialog).to_be_visible()
    expect(todos.dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(todos.dialog).to_be_hidden()
    expect(todos.delete_link("Keyboard only")).to_be_focused()
    expect(todos.item("Keyboard only")).to_have_count(1)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(todos.dialog.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(todos.item("Keyboard only")).to_have_count(0)
    expect(todos.empty_new).to_be_visible()
    expect(page.locator("main h1")).to_be_focused()
