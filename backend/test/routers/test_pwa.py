"""The web app manifest and the service worker script (routers/pwa.py)."""

import json
import re
import struct
from typing import Any

from fastapi.testclient import TestClient

from backend.core.static_files import IMMUTABLE
from backend.routers.pwa import SHELL

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (its first chunk, IHDR)."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def manifest(client: TestClient) -> dict[str, Any]:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    document: dict[str, Any] = json.loads(response.text)
    return document


class TestManifest:
    def test_names_the_app_and_opens_the_list_standalone(self, client: TestClient) -> None:
        document = manifest(client)

        assert document["name"] == "Todo"
        assert 0 < len(document["short_name"]) <= 12
        assert document["start_url"] == "/todo-page"
        assert document["display"] == "standalone"
        assert document["theme_color"] == "#1d4ed8"
        assert document["background_color"] == "#f4f6f8"

    def test_every_icon_is_served_and_has_its_declared_size(self, client: TestClient) -> None:
        icons = manifest(client)["icons"]

        for icon in icons:
            response = client.get(icon["src"])
            assert response.status_code == 200, icon["src"]
            assert response.headers["content-type"] == icon["type"]
            if icon["type"] == "image/png":
                width, height = png_size(response.content)
                assert icon["sizes"] == f"{width}x{height}"
            else:
                assert icon["sizes"] == "any"
                assert response.text.startswith("<svg")
        png = {(icon["sizes"], icon["purpose"]) for icon in icons if icon["type"] == "image/png"}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= png
        assert {icon["type"] for icon in icons} == {"image/png", "image/svg+xml"}

    def test_pages_link_to_it(self, client: TestClient) -> None:
        page = client.get("/login-page").text

        assert '<link rel="manifest" href="/manifest.webmanifest">' in page


class TestServiceWorker:
    def test_is_served_from_the_root_as_javascript_and_always_revalidated(self, client: TestClient) -> None:
        response = client.get("/sw.js")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == "no-cache"
        assert 'const LIST_PAGES = ["/todo-page"];' in response.text

    def test_its_shell_is_this_releases_static_files(self, client: TestClient) -> None:
        script = client.get("/sw.js").text
        prefix = json.loads(re.search(r"^const STATIC_PREFIX = (.*);$", script, re.M)[1])  # type: ignore[index]
        shell = json.loads(re.search(r"^const SHELL = (.*);$", script, re.M)[1])  # type: ignore[index]

        assert {"css/app.css", "js/offline.js", "js/todos.js", "js/api.js"} <= set(SHELL)
        assert shell == [prefix + path for path in SHELL]
        for url in shell:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers["cache-control"] == IMMUTABLE
