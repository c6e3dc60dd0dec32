"""axe-core in the browser: the audit every page must pass with zero violations.

axe-core comes from the axe-playwright-python package (requirements-dev.txt, pinned), which
ships axe.min.js; it is injected through the DevTools protocol, which the page's CSP does
not block, and run with its default rules (WCAG 2 A and AA, best practices).
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()


def violations(page: Page, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What axe finds wrong on the page as it is now (outside the `exclude` selectors)."""
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    found: list[dict[str, Any]] = _AXE.run(page, context=context).response["violations"]
    return found


def report(found: list[dict[str, Any]]) -> str:
    """One paragraph per rule broken: what, how bad, where (at most five places each)."""
    lines = []
    for rule in found:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']} — {rule['helpUrl']}")
        for node in rule["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
    return "\n".join(lines)
