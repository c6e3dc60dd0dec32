"""Password hashing, password policy and CSRF tokens. No database access here."""

import gzip
import hashlib
import hmac
import re
import unicodedata
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


def normalize_password(password: str) -> str:
    """NFKC, so a password typed on another keyboard or system (composed or decomposed
    accents, full-width digits) is the same password. Applied at sign-up, login and change."""
    return unicodedata.normalize("NFKC", password)


def normalize_login(login: str) -> str:
    """The one identity a username or email stands for: NFKC, trimmed, case-folded.

    Lookups and login throttles both use it, so ` alice`, `ALICE` and `alice` (after a
    non-breaking space, say) are one account and one budget.
    """
    return unicodedata.normalize("NFKC", login).strip().lower()


def hash_password(password: str) -> str:
    """Argon2id hash of the whole (normalised) password, no truncation."""
    return str(pwd_context.hash(normalize_password(password)))


def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check a password; the second value is a new hash when the stored one is outdated.

    A password longer than the policy allows was never set, so it is refused after the
    same work as a wrong one (no hashing of megabytes, no library size error).
    """
    password = normalize_password(password)
    if hashed is None or len(password) > MAX_PASSWORD_LENGTH or not _encodable(password):
        pwd_context.verify("dummy", DUMMY_HASH)
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


def _encodable(text: str) -> bool:
    return not any(unicodedata.category(ch) == "Cs" for ch in text)  # lone surrogates


def _visible(password: str, _attrs: dict[str, str]) -> str | None:
    if not _encodable(password):
        return "Password contains characters that cannot be stored."
    # Spaces, tabs, zero-width and other invisible characters alone are no password.
    if not any(unicodedata.category(ch)[0] in "LMNPS" for ch in password):
        return "Password must contain letters, digits or symbols, not only spaces or invisible characters."
    return None


def _common(password: str, _attrs: dict[str, str]) -> str | None:
    if password.lower().strip() in common_passwords():
        return "Password is too common."
    return None


def _numeric(password: str, _attrs: dict[str, str]) -> str | None:
    return "Password cannot be entirely numeric." if password.isdigit() else None


MAX_SIMILARITY = 0.7
MIN_SIMILAR_PART = 4
_NON_WORD = re.compile(r"\W+")


def _too_long_to_compare(password: str, part: str) -> bool:
    # Django's exceeds_maximum_length_ratio: a long password is not "similar" to a
    # short part merely because the part's letters occur somewhere in it.
    return len(password) >= 10 * len(part) and len(part) < MAX_SIMILARITY / 2 * len(password)


def _similar(password: str, attrs: dict[str, str]) -> str | None:
    """Django's UserAttributeSimilarityValidator, on parts of four or more characters."""
    lowered = password.lower()
    for name, value in attrs.items():
        value = value.lower()
        for part in {value, *_NON_WORD.split(value)}:
            if len(part) < MIN_SIMILAR_PART or _too_long_to_compare(lowered, part):
                continue
            if part in lowered or SequenceMatcher(a=lowered, b=part).quick_ratio() >= MAX_SIMILARITY:
                return f"Password is too similar to your {name}."
    return None


PASSWORD_RULES: tuple[PasswordRule, ...] = (
    PasswordRule(
        "password_length",
        f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        _length,
    ),
    PasswordRule("password_invisible", "Letters, digits or symbols, not only spaces.", _visible),
    PasswordRule("password_too_common", "Not one of the 10,000 most common passwords.", _common),
    PasswordRule("password_entirely_numeric", "Not made of digits only.", _numeric),
    PasswordRule("password_too_similar", "Not too similar to your username, email or name.", _similar),
)


def password_violations(
    password: str, *, username: str, email: str, first_name: str = "", last_name: str = ""
) -> list[PolicyViolation]:
    """Every rule the (normalised) password breaks (empty when it is acceptable).

    Similarity is checked against the username, the email's local part (a mail domain
    says nothing about the person) and the names.
    """
    password = normalize_password(password)
    attrs = {
        "username": username,
        "email": email.rpartition("@")[0] or email,
        "first name": first_name,
        "last name": last_name,
    }
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
    """Constant-time check of a presented CSRF token (any text: compared as UTF-8 bytes)."""
    if not presented:
        return False
    expected = csrf_token(secret, session_id).encode()
    return hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))
