"""Request bodies of the password-reset flow."""

from pydantic import ConfigDict, Field

from backend.core.reset_tokens import MAX_TOKEN_CHARS
from backend.schemas.base import InputModel
from backend.schemas.users import Password


class PasswordResetRequest(InputModel):
    """The address of the account whose password was forgotten."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "alice@example.com"}]})

    # Any text with one @ will do: an address that has no account gets the same answer as
    # one that has, so there is nothing to gain from judging its form more closely.
    email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", description="the account's email address"
    )


class PasswordResetConfirm(InputModel):
    """The token from the mailed link and the new password."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "eyJ…", "new_password": "new secret words"}]},
    )

    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS)
    new_password: Password
