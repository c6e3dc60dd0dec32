"""Base models for request data."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _storable(value: Any) -> Any:
    # JSON allows "\u0000" but PostgreSQL refuses NUL in text: an input error (422) on
    # every database, not a server error on one. (Pydantic already refuses lone surrogates.)
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Text may not contain NUL characters")
    return value


class CleanModel(BaseModel):
    """Every text field must be storable as it is, on every database."""

    _clean = field_validator("*", mode="after")(_storable)


class InputModel(CleanModel):
    """A request body: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid")
