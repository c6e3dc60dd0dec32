"""What the HTML forms post, converted to what the JSON bodies take.

A browser sends every field as text: a checkbox is "on" or absent, an empty input is ""
(FastAPI's form binding passes an empty field as absent). These models only convert and
never refuse anything, so a page validates their `model_dump()` with the JSON body's own
schema (`TodoCreate`, `UserCreate`, `PasswordChange`) and shows that schema's messages
beside the fields. Routes take them as `Annotated[TodoForm, Form(default_factory=TodoForm)]`:
a post with none of the form's fields is an empty form, answered with the form and its
errors rather than FastAPI's 422 for a missing body.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

CSRF_FIELD = "csrf_token"
ASCII_NUMBER = re.compile(r"[0-9]{1,3}")
ASCII_ID = re.compile(r"[0-9]{1,10}")


def _priority(value: object) -> object:
    # A number only when it is 1–3 ASCII digits: `²`, `①` or 5,000 digits stay text and
    # get the schema's plain error.
    text = str(value).strip()
    return int(text) if ASCII_NUMBER.fullmatch(text) else text or 3


def _ticked(value: object) -> bool:
    return value in ("on", "true", "1")


def _text_or_none(value: object) -> object:
    return value or None


Stripped = Annotated[str, AfterValidator(str.strip)]


class FormModel(BaseModel):
    """A form's text fields (files are not ours); a repeated field counts once, the last."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _text_fields(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        fields: dict[str, str] = {}
        for key, value in data.items():
            last = value[-1] if isinstance(value, list) and value else value
            if isinstance(last, str) and key != CSRF_FIELD:
                fields[key] = last
        return fields


class LoginForm(FormModel):
    """The login form; `next` is where to go after signing in."""

    username: Stripped = ""
    password: str = ""
    next: str = ""


class RegisterForm(FormModel):
    """The sign-up form's fields as posted, for `UserCreate` to check.

    None is declared: the form binding would pass an empty field as a missing one, and
    the two get different messages ("Enter an email address…", "Email is required.").
    Unknown fields stay, so `UserCreate` refuses them as the API does.
    """

    model_config = ConfigDict(extra="allow")

    def fields(self) -> dict[str, str]:
        """What was posted, without an empty phone number (it is optional)."""
        fields = dict(self.model_extra or {})
        if not fields.get("phone_number"):
            fields.pop("phone_number", None)
        return fields


class PasswordForm(FormModel):
    """The account page's password form, as `PasswordChange` takes it."""

    password: str = ""
    new_password: str = ""


class PhoneForm(FormModel):
    """The account page's phone form; empty clears the number."""

    phone_number: Stripped = ""


class TimezoneForm(FormModel):
    """The account page's time zone form: an IANA name such as Europe/Berlin."""

    timezone: Stripped = ""


class ThemeForm(FormModel):
    """The header's theme switch: the theme chosen and the page to go back to."""

    theme: Stripped = ""
    return_to: str = ""


class ToggleForm(FormModel):
    """The list's done / not done button; `return_to` is the list page it came from."""

    return_to: str | None = None


class ForgotPasswordForm(FormModel):
    """The request for a reset link, as `PasswordResetRequest` takes it."""

    email: Stripped = ""


class ResetPasswordForm(FormModel):
    """The new-password form of a reset link, as `PasswordResetConfirm` takes it."""

    token: str = ""
    new_password: str = ""


class TodoForm(FormModel):
    """The add and edit todo forms, as `TodoCreate` takes them (the reminder: `reminder_choice`)."""

    title: str = ""
    description: str = ""
    priority: Annotated[int | str, BeforeValidator(_priority)] = 3
    complete: Annotated[bool, BeforeValidator(_ticked)] = False
    due_date: Annotated[str | None, BeforeValidator(_text_or_none)] = None
    due_time: Annotated[str | None, BeforeValidator(_text_or_none)] = None
    # "" (none), "keep" (the todo's current one, in remind_keep), a preset, or "custom".
    remind: str = ""
    remind_custom: str = ""
    remind_keep: str = ""
    # Tags as typed, separated by spaces or commas ("#" optional); a repeat rule or "".
    tags: str = ""
    repeat: str = ""
    # The edit form only: the todo's ETag when the form was opened. Empty (an old form, a
    # script) saves over whatever is stored, as before versions existed.
    version: str = ""
    # The list page (filters, sort, offset) to go back to.
    return_to: str = ""


class ProfileForm(FormModel):
    """The account page's name form, as `ProfileChange` takes it."""

    first_name: str = ""
    last_name: str = ""


class EmailForm(FormModel):
    """The account page's email form, as `EmailChange` takes it."""

    email: Stripped = ""
    password: str = ""


class DeleteAccountForm(FormModel):
    """The account page's "Delete my account" form: the password confirms it."""

    delete_password: str = ""


class QuickAddForm(FormModel):
    """The list page's quick-add box."""

    text: str = ""
    return_to: str = ""


class MoveForm(FormModel):
    """A todo's "Move up" / "Move down" buttons in a list view."""

    direction: str = ""
    return_to: str = ""


class IdsForm(FormModel):
    """Several todos at once ("Complete all shown", the Undo of "Clear completed"): ids joined by commas."""

    ids: str = ""
    return_to: str = ""

    def id_list(self, most: int) -> list[int]:
        """The ids posted (at most `most`); anything that is not a plain number is left out."""
        found = [int(part) for part in self.ids.split(",") if ASCII_ID.fullmatch(part.strip() or "x")]
        return found[:most]


class ClearForm(FormModel):
    """ "Clear completed": the list page (and so the view) it was pressed on."""

    return_to: str = ""


class ListForm(FormModel):
    """Create or rename a list."""

    name: str = ""


class ShareForm(FormModel):
    """Share a list with someone, as viewer or editor."""

    username: Stripped = ""
    role: str = ""


class MemberForm(FormModel):
    """Remove someone from a list."""

    username: Stripped = ""
