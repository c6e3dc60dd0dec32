"""Shared pieces of the request models."""

from pydantic import BaseModel, ConfigDict

# JSON allows "\u0000" but PostgreSQL refuses NUL in text: stated in the schema (so the
# OpenAPI document says it) and refused with a 422 on every database.
NO_NUL = r"^[^\x00]*$"


class InputModel(BaseModel):
    """A request body: unknown fields are refused, so nothing can be mass-assigned."""

    model_config = ConfigDict(extra="forbid")
