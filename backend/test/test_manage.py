"""The operator CLI: python -m backend.manage create-admin | promote."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import manage
from backend.core.config import Settings
from backend.main import create_app
from backend.models import User
from backend.test.factories import DEFAULT_PASSWORD, make_user, unique_name

REPO_ROOT = Path(__file__).resolve().parents[2]
STRONG = "Sturdy-admin-passphrase-42"


def _role(session: Session, username: str) -> str | None:
    session.expire_all()
    return session.scalar(select(User.role).where(User.username_key == username.lower()))


def _create_admin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str, password: str, email: str = ""
) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    argv = ["create-admin", "--username", name, "--email", email or f"{name}@example.com", "--password-stdin"]
    return manage.main(argv, settings=settings)


class TestCreateAdmin:
    def test_creates_an_admin_from_stdin(
        self,
        settings: Settings,
        db_session: Session,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        name = unique_name("root")

        code = _create_admin(settings, monkeypatch, name, STRONG)

        assert code == 0
        assert _role(db_session, name) == "admin"
        assert name in capsys.readouterr().out

    def test_the_admin_can_log_in_with_that_password(self, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        name = unique_name("root")
        assert _create_admin(settings, monkeypatch, name, STRONG) == 0
        with TestClient(create_app(settings)) as client:
            assert client.get("/login", auth=(name, STRONG)).status_code == 200

    def test_duplicate_username_ignoring_case_exits_1(
        self,
        settings: Settings,
        db_session: Session,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        name = unique_name("root")
        assert _create_admin(settings, monkeypatch, name, STRONG) == 0

        code = _create_admin(settings, monkeypatch, name.upper(), STRONG, email=f"other-{name}@example.com")

        assert code == 1
        assert "already registered" in capsys.readouterr().err

    def test_weak_password_exits_1_with_every_reason(
        self,
        settings: Settings,
        db_session: Session,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        name = unique_name("root")

        code = _create_admin(settings, monkeypatch, name, "1234567")

        err = capsys.readouterr().err
        assert code == 1
        assert "at least 8" in err and "entirely numeric" in err
        assert _role(db_session, name) is None

    def test_invalid_email_exits_1(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = _create_admin(settings, monkeypatch, unique_name("root"), STRONG, email="not-an-email")

        assert code == 1
        assert "email" in capsys.readouterr().err

    def test_prompts_twice_without_echo_when_not_reading_stdin(
        self, settings: Settings, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = iter([STRONG, STRONG])
        monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
        name = unique_name("root")

        code = manage.main(["create-admin", "--username", name, "--email", f"{name}@example.com"], settings=settings)

        assert code == 0
        assert _role(db_session, name) == "admin"

    def test_mismatched_prompts_stop_without_creating(
        self, settings: Settings, db_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = iter([STRONG, STRONG + "x"])
        monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
        name = unique_name("root")

        with pytest.raises(SystemExit, match="do not match"):
            manage.main(["create-admin", "--username", name, "--email", f"{name}@example.com"], settings=settings)
        assert _role(db_session, name) is None


class TestPromote:
    def test_promotes_an_existing_user(self, settings: Settings, db_session: Session) -> None:
        user = make_user(db_session)

        assert manage.main(["promote", user.username.upper()], settings=settings) == 0
        assert _role(db_session, user.username) == "admin"

    def test_unknown_user_exits_1(self, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
        assert manage.main(["promote", "nobody-here"], settings=settings) == 1
        assert "nobody-here" in capsys.readouterr().err


def test_runs_as_a_module_from_the_repo_root(database_url: str, db_session: Session) -> None:
    user = make_user(db_session)
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "m" * 40, "PATH": "/usr/bin:/bin"}

    result = subprocess.run(
        [sys.executable, "-m", "backend.manage", "promote", user.username],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert _role(db_session, user.username) == "admin"
    assert DEFAULT_PASSWORD not in result.stdout + result.stderr
