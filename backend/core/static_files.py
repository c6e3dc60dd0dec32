"""Versioned static files: one version for the whole tree, cached for a year."""

import hashlib
from pathlib import Path

from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from backend.core.templating import FRONTEND_DIR

STATIC_DIR = FRONTEND_DIR / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def static_version(directory: Path = STATIC_DIR) -> str:
    """One version for the whole static tree: any changed file changes it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class VersionedStaticFiles(StaticFiles):
    """Serves /static/<version>/<path> for a year; unversioned paths must revalidate.

    The version is a path segment rather than a query string so that ES module imports
    (`./api.js`) inherit it and can never mix files from two releases.
    """

    def __init__(self, *, directory: Path, version: str) -> None:
        super().__init__(directory=directory)
        self.version = version

    async def get_response(self, path: str, scope: Scope) -> Response:
        head, _, rest = path.partition("/")
        versioned = head == self.version and bool(rest)
        response = await super().get_response(rest if versioned else path, scope)
        response.headers["Cache-Control"] = IMMUTABLE if versioned else "no-cache"
        return response
