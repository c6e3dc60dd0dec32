"""What the app installs decides how it runs: no uvloop, so every way of starting it
(`uvicorn backend.main:app` by hand, serve.sh, start.sh, the image) gets the asyncio loop,
which kept 256 connections fair here where uvloop starved some (docs/performance.md)."""

import re

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
