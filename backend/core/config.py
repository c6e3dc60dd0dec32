"""Application settings: the only place that reads the environment."""

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKEND_DIR = Path(__file__).resolve().parent.parent
DATABASE_DIR = BACKEND_DIR / "database"
DEFAULT_DATABASE_URL = f"sqlite:///{DATABASE_DIR / 'local.db'}"
DEV_SECRET_FILE = DATABASE_DIR / ".secret_key"
MIN_SECRET_LENGTH = 32
RATE_LIMIT_FIELDS = (
    "RATE_LIMIT_LOGIN",
    "RATE_LIMIT_LOGIN_IP",
    "RATE_LIMIT_REGISTER",
    "RATE_LIMIT_LOGIN_ACCOUNT",
    "RATE_LIMIT_PASSWORD_CHECK",
    "RATE_LIMIT_WRITE",
    "RATE_LIMIT_PASSWORD_RESET",
)


def _dev_secret_key() -> str:
    """Load the development key, creating it once so tokens survive restarts."""
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEV_SECRET_FILE.touch(mode=0o600)
    DEV_SECRET_FILE.write_text(key)
    return key


class Settings(BaseSettings):
    """Every setting, documented in .env.example."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    ENVIRONMENT: Literal["development", "production"] = "development"
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    SECRET_KEY: SecretStr | None = None
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=30, ge=1, le=60 * 24 * 30)
    REDIS_URL: str | None = None
    RATE_LIMIT_LOGIN: str = "10/5 minutes"
    RATE_LIMIT_LOGIN_IP: str = "50/5 minutes"
    RATE_LIMIT_REGISTER: str = "20/hour"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    METRICS_ENABLED: bool = True
    # Proxy addresses whose X-Forwarded-For / -Proto are believed; empty trusts none.
    FORWARDED_ALLOW_IPS: str = ""
    # Requests take turns for all DB_POOL_SIZE + DB_MAX_OVERFLOW connections, and the pool
    # closes an overflow connection whenever it comes back to DB_POOL_SIZE idle ones: under
    # steady load that meant a new database connection every few requests (35 in 8 s of
    # updates at 10 + 5). So the default keeps all 15 (docs/performance.md, issue 12).
    DB_POOL_SIZE: int = Field(default=15, ge=1, le=200)
    DB_MAX_OVERFLOW: int = Field(default=0, ge=0, le=200)
    DB_POOL_TIMEOUT: float = Field(default=10.0, gt=0)
    SQLITE_BUSY_TIMEOUT_MS: int = Field(default=5000, ge=0)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    # Hardening (slow clients, sessions, throttles, metrics access).
    HEADER_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)
    BODY_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    SESSION_MAX_HOURS: int = Field(default=12, ge=1, le=24 * 30)
    RATE_LIMIT_LOGIN_ACCOUNT: str = "50/hour"
    RATE_LIMIT_PASSWORD_CHECK: str = "5/15 minutes"
    RATE_LIMIT_WRITE: str = "120/minute"
    METRICS_TOKEN: SecretStr | None = None
    # Background work: jobs, schedules, mail.
    BROKER_URL: str | None = None
    JOB_MAX_RETRIES: int = Field(default=5, ge=0, le=100)
    CLEANUP_CRON: str = "0 3 * * *"
    REMINDER_MAX_LATE_HOURS: int = Field(default=24, ge=0)
    PASSWORD_RESET_MINUTES: int = Field(default=30, ge=1)
    # Where users reach the app (https://todo.example.com): mailed links start with it.
    # Required for reset mails in production; in development the request's own address.
    PUBLIC_URL: str | None = None
    RATE_LIMIT_PASSWORD_RESET: str = "5/hour"
    IDEMPOTENCY_HOURS: int = Field(default=24, ge=1)
    TRASH_DAYS: int = Field(default=30, ge=1)
    SMTP_HOST: str | None = None
    SMTP_PORT: int = Field(default=587, ge=1, le=65535)
    SMTP_FROM: str = "todo@localhost"
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_STARTTLS: bool = True
    # Real time (GET /ws): pings, sockets per user, and the origins (besides the app's own)
    # whose pages may open a socket with the session cookie: comma-separated.
    WS_PING_SECONDS: float = Field(default=20.0, gt=0)
    WS_MAX_PER_USER: int = Field(default=20, ge=1)
    ALLOWED_ORIGINS: str = ""
    # Traces (OTLP over HTTP); off unless the endpoint is set.
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    OTEL_SERVICE_NAME: str = "todo-app"

    @property
    def allowed_origins(self) -> frozenset[str]:
        """ALLOWED_ORIGINS as a set of `scheme://host[:port]`, without trailing slashes."""
        return frozenset(origin.strip().rstrip("/") for origin in self.ALLOWED_ORIGINS.split(",") if origin.strip())

    @field_validator(*RATE_LIMIT_FIELDS)
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        parse(value)  # raises ValueError on anything that is not limits notation
        return value

    @field_validator(
        "REDIS_URL", "BROKER_URL", "SMTP_HOST", "SMTP_USERNAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "PUBLIC_URL"
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("PUBLIC_URL")
    @classmethod
    def _http_origin(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/?#\s]+/?", value):
            raise ValueError("PUBLIC_URL must be the app's origin, such as https://todo.example.com")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _secret_key_policy(self) -> "Settings":
        key = self.SECRET_KEY.get_secret_value() if self.SECRET_KEY else ""
        if self.ENVIRONMENT == "production" and len(key) < MIN_SECRET_LENGTH:
            raise ValueError(f"SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"

    @property
    def secret_key(self) -> str:
        if self.SECRET_KEY is None:  # development only: the validator refuses this in production
            raise RuntimeError("no SECRET_KEY: start-up fills in the development key (with_dev_secret_key)")
        return self.SECRET_KEY.get_secret_value()


def with_dev_secret_key(settings: Settings) -> Settings:
    """At start-up: development without SECRET_KEY gets the key kept in DEV_SECRET_FILE."""
    if settings.SECRET_KEY is not None:
        return settings
    return settings.model_copy(update={"SECRET_KEY": SecretStr(_dev_secret_key())})


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and .env, at start-up."""
    return with_dev_secret_key(Settings())
