"""Deploy tests: the real nginx, Redis, uvicorn workers and config validators on this machine."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import REPO_ROOT, SECRET_KEY, Launcher, clean_env
from .services import executable

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deploy: tests that start nginx, several app processes or Redis")


@pytest.hookimpl(tryfirst=True)  # before `-m` selection looks at the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.deploy)


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    return executable("nginx", package="Debian package nginx")


@pytest.fixture(scope="session")
def deploy_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh SQLite file shared by every app process, migrated with `alembic upgrade head`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'deploy.db'}"
    env = clean_env(DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return url


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Processes shared by the tests of one module, stopped after the last of them."""
    launcher = Launcher(tmp_path_factory.mktemp("procs"))
    yield launcher
    launcher.stop_all()


@pytest.fixture
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Processes of one test, stopped after it."""
    launcher = Launcher(tmp_path_factory.mktemp("procs"))
    yield launcher
    launcher.stop_all()
