"""Shared pieces of the request models."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator
from pydantic_core import PydanticCustomError

from backend.core.validation import MAX_ERRORS

# JSON allows "\u0000" but PostgreSQL refuses NUL in text: stated in the schema (so the
# OpenAPI document says it) and refused with a 422 on every database.
NO_NUL = r"^[^\x00]*$"


class InputModel(BaseModel):
    """A request body: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _bounded_fields(cls, data: Any, handler: ModelWrapValidatorHandler["InputModel"]) -> "InputModel":
        # A body with tens of thousands of unknown keys would cost an error object each
        # (seconds of event-loop time, megabytes of answer): one error says it instead.
        if isinstance(data, dict) and len(data) > len(cls.model_fields) + MAX_ERRORS:
            raise PydanticCustomError(
                "too_many_fields",
                "The body has {count} fields; this one takes at most {allowed}.",
                {"count": len(data), "allowed": len(cls.model_fields)},
            )
        return handler(data)
