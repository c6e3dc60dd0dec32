"""Password hashing, password policy and CSRF tokens. No database access here."""

import gzip
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

from passlib.context import CryptContext

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")
BCRYPT_MAX_BYTES = 72

# Argon2id at OWASP's first recommended setting (19 MiB, t=2, p=1); bcrypt hashes from an
# older system still verify and are replaced with Argon2id at the next login.
pwd_context = CryptContext(
    schemes=["argon2", "bcrypt"],
    deprecated=["bcrypt"],
    argon2__type="ID",
    argon2__memory_cost=19456,
    argon2__time_cost=2,
    argon2__parallelism=1,
)
# Verified when the username is unknown, so that answer costs the same time as a wrong password.
DUMMY_HASH = pwd_context.hash("dummy password that nobody has")


def hash_password(password: str) -> str:
    """Argon2id hash of the whole password (no truncation)."""
    return str(pwd_context.hash(password))


def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check a password; the second value is a new hash when the stored one is outdated."""
    if hashed is None:
        pwd_context.verify(password, DUMMY_HASH)
        return False, None
    if hashed.startswith("$2") and len(password.encode()) > BCRYPT_MAX_BYTES:
        # Legacy bcrypt only ever saw the first 72 bytes; check those, then upgrade.
        ok = pwd_context.verify(password.encode()[:BCRYPT_MAX_BYTES], hashed)
        return ok, (hash_password(password) if ok else None)
    ok, new_hash = pwd_context.verify_and_update(password, hashed)
    return bool(ok), new_hash


# --- password policy -------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyViolation:
    code: str
    message: str


@dataclass(frozen=True)
class PasswordRule:
    code: str
    help_text: str
    check: Callable[[str, dict[str, str]], str | None]


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (list from Django's auth app, by frequency)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def _length(password: str, _attrs: dict[str, str]) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long."
    return None


def _common(password: str, _attrs: dict[str, str]) -> str | None:
    if password.lower().strip() in common_passwords():
        return "Password is too common."
    return None


def _numeric(password: str, _attrs: dict[str, str]) -> str | None:
    return "Password cannot be entirely numeric." if password.isdigit() else None


def _similar(password: str, attrs: dict[str, str]) -> str | None:
    lowered = password.lower()
    for name, value in attrs.items():
        if not value:
            continue
        value = value.lower()
        parts = {value, *value.replace("@", " ").replace(".", " ").split()}
        for part in parts:
            if len(part) < 3:
                continue
            if part in lowered or SequenceMatcher(a=lowered, b=part).quick_ratio() >= 0.7:
                return f"Password is too similar to the {name}."
    return None


PASSWORD_RULES: tuple[PasswordRule, ...] = (
    PasswordRule(
        "password_length",
        f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        _length,
    ),
    PasswordRule("password_too_common", "Not one of the 10,000 most common passwords.", _common),
    PasswordRule("password_entirely_numeric", "Not made of digits only.", _numeric),
    PasswordRule("password_too_similar", "Not too similar to your username or email.", _similar),
)


def password_violations(password: str, *, username: str, email: str) -> list[PolicyViolation]:
    """Every rule the password breaks (empty when it is acceptable)."""
    attrs = {"username": username, "email": email}
    found = []
    for rule in PASSWORD_RULES:
        message = rule.check(password, attrs)
        if message:
            found.append(PolicyViolation(rule.code, message))
    return found


def password_help_texts() -> list[str]:
    """What the sign-up form tells people about the policy."""
    return [rule.help_text for rule in PASSWORD_RULES]


# --- CSRF --------------------------------------------------------------------------------


def csrf_token(secret: str, session_id: str) -> str:
    """The CSRF token bound to one session (the JWT's jti): new at every login."""
    return hmac.new(secret.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, session_id: str, presented: str | None) -> bool:
    """Constant-time check of a presented CSRF token."""
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(secret, session_id), presented)
