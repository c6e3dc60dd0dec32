"""Every page at phone and desktop width: screenshots, no sideways scrolling, labels on
every control, readable contrast in the light and the dark theme, visible focus and a
sensible tab order."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS, SessionFactory, User
from .pages import LoginPage, TodoFormPage, TodoListPage
from .screens import SCREENS, Screen

WIDTHS = (1280, 375)
LIGHT, DARK = "rgb(244, 246, 248)", "rgb(15, 20, 26)"  # the page background of each theme
# (browser setting, <html data-theme> forced on the page or None, the theme it must give):
# the system's light and dark, then the user's choice against the system's.
THEMES: tuple[tuple[Literal["light", "dark"], str | None, str], ...] = (
    ("light", None, LIGHT),
    ("dark", None, DARK),
    ("light", "dark", DARK),
    ("dark", "light", LIGHT),
)

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


def _contrast_in_every_theme(page: Page, root: str) -> dict[str, list[str]]:
    """The contrast problems under each of THEMES (none is the answer), after checking that
    the theme took: the browser's setting is emulated, the user's choice set on <html>."""
    rendered = page.locator("html").get_attribute("data-theme")
    problems = {}
    for scheme, forced, background in THEMES:
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")  # no colour transitions
        page.evaluate("(theme) => { document.documentElement.dataset.theme = theme; }", forced or rendered)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background, (scheme, forced)
        problems[f"{scheme} browser, theme {forced or rendered}"] = page.evaluate(CONTRAST_PROBLEMS, root)
    return {theme: found for theme, found in problems.items() if found}


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

    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == LIGHT, "CSS not applied"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(UNLABELLED) == []
    assert _contrast_in_every_theme(page, screen.root) == {}
    assert page.locator("h1").count() == 1 or screen.root == "dialog"
    page.emulate_media(color_scheme="dark")
    page.evaluate("() => { document.documentElement.dataset.theme = 'system'; }")
    page.screenshot(path=SCREENSHOTS / f"{screen.name}-{width}-dark.png", full_page=True)


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
    stops = _tab_stops(page, 31)
    assert [name for name, _ in stops] == [
        "Skip to content",
        "✓ Todo",
        "Todos",
        "Add",
        "Account",
        "Auto",
        "Light",
        "Dark",
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
