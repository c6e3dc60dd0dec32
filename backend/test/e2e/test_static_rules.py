"""The front end's own rules, checked on the source: they keep the strict CSP honest."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import REPO

TEMPLATES = REPO / "frontend" / "templates"
SCRIPTS = REPO / "frontend" / "static" / "js"
# Pages that are not part of the app's own layout: the base itself and the Swagger UI page.
STANDALONE = {"base.html", "docs.html"}


def _texts(folder: Path, pattern: str) -> dict[str, str]:
    files = sorted(folder.glob(pattern))
    assert files, f"no {pattern} in {folder}"
    return {path.name: path.read_text() for path in files}


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    for name, text in _texts(TEMPLATES, "*.html").items():
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {name}"
        assert not re.search(r"<style\b", text), f"<style> in {name}"
        assert not re.search(r"\sstyle\s*=", text), f"style= attribute in {name}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"on…= handler in {name}"
        assert "|safe" not in text.replace(" ", ""), f"|safe in {name}"
        assert not re.search(r"(href|src)=\"/static/", text), f"hard-coded asset path in {name}"


def test_pages_extend_the_base_and_partials_are_underscored() -> None:
    for name, text in _texts(TEMPLATES, "*.html").items():
        if name in STANDALONE or name.startswith("_"):
            continue
        assert text.startswith('{% extends "base.html" %}'), f"{name} does not extend base.html"
    base = (TEMPLATES / "base.html").read_text()
    for block in ("title", "content", "scripts"):
        assert f"{{% block {block} %}}" in base


def test_only_api_js_calls_fetch_and_no_script_writes_html() -> None:
    scripts = _texts(SCRIPTS, "*.js")
    callers = sorted(name for name, text in scripts.items() if re.search(r"\bfetch\s*\(", text))
    assert callers == ["api.js"]
    for name, text in scripts.items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{sink} in {name}"
