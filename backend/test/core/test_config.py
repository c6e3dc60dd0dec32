"""Settings (environment, .env, secret-key policy), engine tuning, and what settings change in the app."""

import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from backend.core import config
from backend.core.config import Settings
from backend.database.session import Database, build_engine
from backend.test.conftest import REPO_ROOT, TEST_SECRET, ClientFactory, build_settings
from backend.test.factories import Account, state_of

FIELDS = sorted(Settings.model_fields)


def settings_with(**values: Any) -> Settings:
    """Settings from these values and the environment only (no .env file)."""
    return Settings(_env_file=None, **values)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting in the environment; the development key file lives in tmp_path."""
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)
    secret_file = tmp_path / "database" / ".secret_key"
    monkeypatch.setattr(config, "DEV_SECRET_FILE", secret_file)
    return secret_file


@pytest.mark.usefixtures("clean_env")
class TestSettings:
    def test_defaults(self) -> None:
        settings = Settings(_env_file=None)

        assert settings.ENVIRONMENT == "development"
        assert settings.DATABASE_URL == f"sqlite:///{REPO_ROOT / 'backend' / 'database' / 'local.db'}"
        assert settings.ACCESS_TOKEN_EXPIRE_MINUTES == 30
        assert settings.RATE_LIMIT_LOGIN == "10/5 minutes"
        assert settings.RATE_LIMIT_LOGIN_IP == "50/5 minutes"
        assert settings.RATE_LIMIT_REGISTER == "20/hour"
        assert settings.REDIS_URL is None
        assert settings.LOG_LEVEL == "INFO"

    def test_values_come_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "5")
        monkeypatch.setenv("RATE_LIMIT_LOGIN", "3/minute")
        monkeypatch.setenv("LOG_LEVEL", "DEBUG")

        settings = Settings(_env_file=None)

        assert (settings.ACCESS_TOKEN_EXPIRE_MINUTES, settings.RATE_LIMIT_LOGIN, settings.LOG_LEVEL) == (
            5,
            "3/minute",
            "DEBUG",
        )

    def test_values_come_from_a_dotenv_file(self, tmp_path: Path) -> None:
        env_file = tmp_path / ".env"
        env_file.write_text("ACCESS_TOKEN_EXPIRE_MINUTES=7\nSECRET_KEY=" + "k" * 40 + "\n")

        settings = Settings(_env_file=env_file)

        assert settings.ACCESS_TOKEN_EXPIRE_MINUTES == 7
        assert settings.secret_key == "k" * 40

    def test_the_environment_wins_over_the_dotenv_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        env_file = tmp_path / ".env"
        env_file.write_text("ACCESS_TOKEN_EXPIRE_MINUTES=7\n")
        monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "9")

        assert Settings(_env_file=env_file).ACCESS_TOKEN_EXPIRE_MINUTES == 9

    def test_production_refuses_to_start_without_a_secret_key(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, ENVIRONMENT="production")

    def test_production_refuses_a_secret_key_under_32_characters(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="k" * 31)

    def test_production_accepts_a_32_character_key(self) -> None:
        settings = Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="k" * 32)

        assert settings.is_production
        assert settings.secret_key == "k" * 32

    def test_reading_settings_writes_no_file(self, clean_env: Path) -> None:
        settings = Settings(_env_file=None)

        assert settings.SECRET_KEY is None
        assert not clean_env.exists()

    def test_development_generates_a_key_once_and_keeps_it(self, clean_env: Path) -> None:
        first = config.with_dev_secret_key(Settings(_env_file=None))
        second = config.with_dev_secret_key(Settings(_env_file=None))

        assert len(first.secret_key) >= 32
        assert first.secret_key == second.secret_key == clean_env.read_text().strip()
        assert stat.S_IMODE(clean_env.stat().st_mode) == 0o600

    def test_development_with_a_key_writes_no_file(self, clean_env: Path) -> None:
        config.with_dev_secret_key(Settings(_env_file=None, SECRET_KEY="k" * 40))

        assert not clean_env.exists()

    @pytest.mark.parametrize("field", ["RATE_LIMIT_LOGIN", "RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_REGISTER"])
    def test_rate_limits_must_be_in_limits_notation(self, field: str) -> None:
        with pytest.raises(ValidationError):
            settings_with(SECRET_KEY="k" * 40, **{field: "ten per minute"})

    def test_a_blank_redis_url_means_none(self) -> None:
        assert Settings(_env_file=None, SECRET_KEY="k" * 40, REDIS_URL="").REDIS_URL is None

    @pytest.mark.parametrize(
        ("field", "value"),
        [("ENVIRONMENT", "staging"), ("LOG_LEVEL", "LOUD"), ("ACCESS_TOKEN_EXPIRE_MINUTES", "0")],
    )
    def test_invalid_values_are_refused(self, field: str, value: str) -> None:
        with pytest.raises(ValidationError):
            settings_with(SECRET_KEY="k" * 40, **{field: value})


class TestEnvExample:
    def test_every_setting_is_documented(self) -> None:
        example = (REPO_ROOT / ".env.example").read_text()
        documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))

        assert sorted(set(FIELDS) - documented) == []


class TestSQLiteEngine:
    @pytest.fixture
    def database(self, tmp_path: Path) -> Database:
        settings = build_settings(f"sqlite:///{tmp_path / 'tuning.db'}", SQLITE_BUSY_TIMEOUT_MS=1234)
        return Database(build_engine(settings), settings)

    def test_wal_foreign_keys_and_busy_timeout(self, database: Database) -> None:
        with database.engine.connect() as conn:
            pragmas = {
                name: conn.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        database.dispose()

        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 1234}

    def test_writes_take_the_write_lock_when_they_begin(self, database: Database, tmp_path: Path) -> None:
        with database.session(write=True):
            other = sqlite3.connect(tmp_path / "tuning.db", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        database.dispose()


class TestServerEngines:
    def test_postgresql_pool_is_sized_and_pre_pinged(self) -> None:
        settings = build_settings("postgresql+psycopg://u@127.0.0.1:1/db", DB_POOL_SIZE=7, DB_MAX_OVERFLOW=3)

        engine = build_engine(settings)

        assert engine.pool._pre_ping is True
        assert engine.pool.size() == 7  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 3  # type: ignore[attr-defined]
        engine.dispose()

    def test_mysql_always_talks_utf8mb4(self) -> None:
        engine = build_engine(build_settings("mysql+pymysql://u@127.0.0.1:1/db"))

        assert engine.url.query["charset"] == "utf8mb4"
        assert engine.pool._pre_ping is True
        engine.dispose()


SECURITY_HEADERS = {
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
}


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("method", "path"), [("GET", "/health"), ("GET", "/todos/"), ("GET", "/no-such-path"), ("POST", "/health")]
    )
    def test_present_on_every_response(self, client: TestClient, method: str, path: str) -> None:
        response = client.request(method, path)

        assert all(name in response.headers for name in SECURITY_HEADERS)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]

    def test_present_on_an_unexpected_500(self, app: FastAPI, client_factory: ClientFactory) -> None:
        async def explode() -> None:
            raise RuntimeError("boom")

        app.add_api_route("/explode", explode, methods=["GET"])
        client = client_factory(app, raise_server_exceptions=False)

        response = client.get("/explode")

        assert response.status_code == 500
        assert [name for name in SECURITY_HEADERS if name not in response.headers] == []

    def test_no_hsts_in_development(self, client: TestClient) -> None:
        assert "Strict-Transport-Security" not in client.get("/health").headers

    def test_hsts_in_production(self, client_factory: ClientFactory) -> None:
        client = client_factory(ENVIRONMENT="production", SECRET_KEY=TEST_SECRET)

        assert client.get("/health").headers["Strict-Transport-Security"].startswith("max-age=")

    def test_production_session_cookie_is_host_prefixed_and_secure(
        self, client_factory: ClientFactory, user: Account
    ) -> None:
        client = client_factory(ENVIRONMENT="production", SECRET_KEY=TEST_SECRET)

        response = client.post(
            "/login-page", data={"username": user.username, "password": user.password}, follow_redirects=False
        )

        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-session=")
        assert "secure" in cookie.lower()
        assert "domain" not in cookie.lower()


class TestCreateApp:
    def test_module_exposes_the_app(self) -> None:
        from backend.main import app

        assert isinstance(app, FastAPI)

    def test_settings_are_the_apps_state(self, app: FastAPI, settings: Settings) -> None:
        assert state_of(app).settings is settings

    def test_unknown_path_is_a_json_404(self, client: TestClient) -> None:
        response = client.get("/no-such-path")

        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}

    def test_wrong_method_is_405(self, client: TestClient) -> None:
        assert client.delete("/health").status_code == 405

    def test_token_lifetime_follows_the_setting(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(ACCESS_TOKEN_EXPIRE_MINUTES=5)

        assert client.get("/login", auth=(user.username, user.password)).json()["expires_in"] == 300

    def test_smaller_body_limit_setting_applies(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(MAX_BODY_BYTES=2048)

        response = client.post(
            "/todos/todos", json={"title": "x" * 100, "description": "d" * 1990}, headers=user.headers
        )
        small = client.post("/todos/todos", json={"title": "x"}, headers=user.headers)

        assert response.status_code == 413
        assert small.status_code == 201


class TestForwardedHeaders:
    """The client address (which the throttles use) comes from X-Forwarded-For only via a trusted proxy."""

    def failed_login_then_other_ip(self, client: TestClient, user: Account) -> int:
        client.get("/login", auth=(user.username, "wrong-password-1"), headers={"X-Forwarded-For": "203.0.113.1"})
        response = client.get("/login", auth=(user.username, user.password), headers={"X-Forwarded-For": "203.0.113.2"})
        return response.status_code

    def test_trusted_proxy_forwards_the_client_address(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(
            client=("10.1.1.1", 40000), FORWARDED_ALLOW_IPS="10.1.1.1", RATE_LIMIT_LOGIN_IP="1/minute"
        )

        assert self.failed_login_then_other_ip(client, user) == 200

    def test_spoofed_header_from_an_untrusted_peer_is_ignored(
        self, client_factory: ClientFactory, user: Account
    ) -> None:
        client = client_factory(
            client=("10.9.9.9", 40000), FORWARDED_ALLOW_IPS="10.1.1.1", RATE_LIMIT_LOGIN_IP="1/minute"
        )

        assert self.failed_login_then_other_ip(client, user) == 429
