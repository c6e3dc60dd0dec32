"""axe-core finds nothing wrong on any page, in the light theme and in the dark one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .axe import report, violations
from .conftest import SessionFactory, User
from .screens import SCREENS, Screen


def _docs(page: Page) -> None:
    page.goto("/docs")
    expect(page.locator("#swagger-ui .information-container")).to_be_visible()


# The API docs page is not drawn with the app's layout (so not in the layout checks), but
# people read it too. What Swagger UI draws inside #swagger-ui is the vendor's and is left
# out (its method badges and version stamps are below AA, its headings skip levels).
AUDITED = [*SCREENS, Screen("docs", "anonymous", _docs)]
SWAGGER_UI = ("#swagger-ui",)


@pytest.mark.parametrize("screen", AUDITED, ids=lambda s: s.name)
def test_axe_finds_no_violations(
    screen: Screen, open_page: SessionFactory, reader: User, admin: User, fresh_user: User
) -> None:
    user = {"anonymous": None, "reader": reader, "admin": admin, "fresh": fresh_user}[screen.who]
    # axe needs JavaScript (its promises never settle without); a page "without JavaScript"
    # is the page whose own scripts never load.
    page = open_page(user)
    if not screen.js:
        page.route("**/*.js", lambda route: route.abort())
    screen.show(page)
    page.wait_for_load_state("load")
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        found[scheme] = violations(page, exclude=SWAGGER_UI if screen.name == "docs" else ())

    assert found == {"light": [], "dark": []}, "\n".join(f"{s}:\n{report(v)}" for s, v in found.items() if v)
