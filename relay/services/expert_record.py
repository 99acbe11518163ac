"""An expert's record as config.yaml and the admin form state it, validated by one model.

config.yaml's ``experts:`` and the admin page's expert form both go through :class:`ExpertConfig`,
so a phone, an id or a quiet-hours window is checked by the same rule wherever it is typed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smscat.modem.address import AddressError, is_short_code, normalise

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,31}$"
Slug = Annotated[str, Field(pattern=_SLUG, description="lower-case id: letters, digits, - _")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def mobile(value: str) -> str:
    """A full mobile number in E.164, or ValueError with the reason (for a validator)."""
    try:
        number = normalise(value)
    except AddressError as exc:
        raise ValueError(str(exc)) from None
    if is_short_code(number):
        raise ValueError("an expert's phone must be a full mobile number, not a short code")
    return number


_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class ExpertConfig(_Frozen):
    id: Slug
    name: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=40)
    department: str = Field(min_length=1, max_length=60)
    phone: str = Field(description="the expert's mobile; stored as E.164, never shown")
    specialty: str | None = Field(None, max_length=200)
    role: Literal["expert", "assistant"] = Field(
        "expert", description="an assistant answers the routine first and is not on the board"
    )
    assistant: Slug | None = Field(None, description="id of this expert's assistant")
    quiet_hours: list[str] = Field(
        default_factory=list, description='local windows with no SMS, e.g. ["22:00-07:30"]'
    )
    daily_cap: int | None = Field(None, ge=0, le=1000, description="questions per local day")
    confirm_replies: bool = Field(False, description='an SMS "已回复 #12" after each answer')
    digest: bool = Field(True, description="a weekly SMS digest")

    _phone = field_validator("phone")(lambda cls, v: mobile(v))

    @field_validator("quiet_hours")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            if not _WINDOW.match(window):
                raise ValueError(f"{window!r} is not a window like 22:00-07:30")
        return value

    def __repr_args__(self) -> Any:  # the phone number never reaches a repr
        return [(k, v) for k, v in super().__repr_args__() if k != "phone"]
