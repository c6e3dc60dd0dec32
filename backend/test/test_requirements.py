"""What the app installs decides how it runs: no uvloop, so every way of starting it
(`uvicorn backend.main:app` by hand, serve.sh, start.sh, the image) gets the asyncio loop,
which kept 256 connections fair here where uvloop starved some (docs/performance.md)."""

import re
import subprocess  # nosec B404 (runs our own interpreter)
import sys

from backend.core.config import BACKEND_DIR

REQUIREMENTS = BACKEND_DIR / "requirements.txt"


def pinned() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.split("#")[0].strip())
        if match:
            found[match[1]] = match[2]
    return found


class TestRuntimeRequirements:
    def test_uvicorn_comes_without_the_standard_extra_and_without_uvloop(self) -> None:
        names = {name.lower() for name in pinned()}

        assert "uvicorn" in names
        assert not any(name.startswith("uvicorn[") for name in names)
        assert "uvloop" not in names

    def test_the_parts_of_the_extra_the_app_uses_are_pinned(self) -> None:
        assert {"httptools", "websockets"} <= {name.lower() for name in pinned()}

    def test_every_requirement_is_pinned_exactly(self) -> None:
        lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]

        assert all("==" in line for line in lines if line)


# Installed for the tests only (requirements-dev.txt), or pulled in by those: the app
# must start without any of them, as it does from a venv built from requirements.txt.
TEST_ONLY_MODULES = (
    "pytest",
    "schemathesis",
    "hypothesis",
    "playwright",
    "axe_playwright_python",
    "aiosmtpd",
    "httpx2",
    "mypy",
)
BLOCK_AND_IMPORT = """
import importlib, sys
for name in {blocked!r}:
    sys.modules[name] = None  # `import name` now raises ImportError
for module in ("backend.main", "backend.worker", "backend.scheduler", "backend.manage"):
    importlib.import_module(module)
"""


def test_the_app_worker_and_scheduler_import_without_test_only_packages() -> None:
    """A fresh `start.sh` venv has only requirements.txt: nothing the app imports may need more
    (SQLAlchemy's asyncio extension needs greenlet at import time: requirements.txt pins it)."""
    script = BLOCK_AND_IMPORT.format(blocked=TEST_ONLY_MODULES)
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
