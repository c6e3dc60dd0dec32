"""Request and response bodies for users and authentication."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, Strict, StringConstraints

from backend.core.zones import ZONE_MESSAGE, is_zone
from backend.schemas.base import NO_NUL, InputModel

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
PHONE_PATTERN = r"^\+?[0-9]{7,15}$"
# What people type around the digits: spaces, dots, dashes, brackets. The input pattern
# (also the OpenAPI pattern) accepts 7–15 digits with those between them.
_PHONE_PUNCTUATION = re.compile(r"[ .\-()]")
PHONE_INPUT_PATTERN = r"^[ .\-()]*\+?[ .\-()]*(?:[0-9][ .\-()]*){7,15}$"
PHONE_MESSAGE = "Phone number must have 7–15 digits, with an optional + in front."


def normalize_phone(value: str) -> str:
    """`+44 20 7946 0958`, `(555) 123-4567`, `555.123.4567` → digits with an optional `+`."""
    compact = _PHONE_PUNCTUATION.sub("", value)
    if not re.fullmatch(PHONE_PATTERN, compact):
        raise ValueError(PHONE_MESSAGE)
    return compact


def check_zone(value: str) -> str:
    """An IANA zone name, spelt exactly ("Europe/Berlin"), or ValueError."""
    if not is_zone(value):
        raise ValueError(ZONE_MESSAGE)
    return value


Username = Annotated[
    str,
    StringConstraints(pattern=USERNAME_PATTERN, min_length=3, max_length=32),
    Field(description="3–32 letters, digits, `_`, `.` or `-`; unique ignoring case", examples=["alice"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_NUL)]
Phone = Annotated[
    str,
    StringConstraints(max_length=40, pattern=PHONE_INPUT_PATTERN),
    AfterValidator(normalize_phone),
    Field(
        description="7–15 digits with an optional leading `+`; spaces, dots, dashes and brackets are "
        "accepted and removed (stored and returned as digits)",
        examples=["+44 20 7946 0958"],
    ),
]
# minLength is documented here and enforced by the password policy, which reports every
# broken rule together (a schema check would stop at the first one).
Password = Annotated[
    str,
    Field(
        max_length=256,
        json_schema_extra={"minLength": 8},
        description="8–256 characters, not common, not all digits, not like the username/email",
        examples=["correct horse battery staple"],
    ),
]


class UserCreate(InputModel):
    """Sign-up form; unknown fields (such as `role`) are refused."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "alice",
                    "email": "alice@example.com",
                    "first_name": "Alice",
                    "last_name": "Liddell",
                    "password": "correct horse battery staple",
                    "phone_number": "+15551234567",
                }
            ]
        },
    )

    username: Username
    email: EmailStr = Field(max_length=254)
    first_name: Name
    last_name: Name
    password: Password
    phone_number: Phone | None = None


Theme = Literal["system", "light", "dark"]


class ThemeChange(InputModel):
    """The colour theme of the pages."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"theme": "dark"}]})

    theme: Theme


class UserRead(BaseModel):
    """A user as the API shows it: never the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    phone_number: str | None
    role: Literal["user", "admin"]
    is_active: bool
    timezone: str = Field(description='IANA time zone name; "today" and due times are read in it')
    theme: Theme = Field(description="The pages' colours: \"system\" follows the device's light or dark setting")
    created_at: datetime


class PasswordChange(InputModel):
    """Current password and the new one."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"password": "old secret words", "new_password": "new secret words"}]},
    )

    password: str = Field(min_length=1, max_length=256)
    new_password: Password


class TokenResponse(BaseModel):
    """A bearer token and how many seconds it lives."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"access_token": "eyJ…", "token_type": "bearer", "expires_in": 1800}]}
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class CalendarFeed(BaseModel):
    """Where calendar apps subscribe to the user's open dated todos."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"url": "https://todo.example.com/calendar/Qm9vayBkZW50aXN0.ics"}]}
    )

    url: str = Field(description="The feed's secret address: anyone who has it can read the feed")


MAX_SEARCH = 254
MAX_OFFSET = 1_000_000_000
SEARCH_HELP = "Case-insensitive search in username and email"
UserSearch = Annotated[str | None, Field(max_length=MAX_SEARCH, pattern=NO_NUL, description=SEARCH_HELP)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class UserQuery(BaseModel):
    """Paging and search for the admin user listing."""

    q: UserSearch = None
    limit: int = Field(default=50, ge=1, le=100)
    offset: Offset = 0


class RoleChange(InputModel):
    """`PUT /admin/{username}/role`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "admin"}]})

    role: Literal["user", "admin"]


class ActiveChange(InputModel):
    """`PUT /admin/{username}/active`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    is_active: Annotated[bool, Strict()]


class ProfileChange(InputModel):
    """`PUT /user/profile`: the names shown for the account."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"first_name": "Alice", "last_name": "Liddell"}]})

    first_name: Name
    last_name: Name


class EmailChange(InputModel):
    """`PUT /user/email`: a new address, confirmed with the current password."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "alice@example.org", "password": "current password"}]}
    )

    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class AccountDeletion(InputModel):
    """`DELETE /user/`: the current password, so a left-open session cannot delete the account."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "current password"}]})

    password: str = Field(min_length=1, max_length=1024)
