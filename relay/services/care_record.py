"""随访 plans and settings as config.yaml's ``care:`` and the admin plan form state them.

One model checks a plan wherever it is typed (the file, the admin page, a stored edit), and turns
it into the core's frozen :class:`~smscat.relay.core.care.Plan`. A template may use only the
core's variables, so a diagnosis cannot reach an SMS through one; what must name the condition
goes on the plan's ``page``, which a step's ``{link}`` opens behind a token.
"""

from __future__ import annotations

import re
from datetime import time, timedelta, tzinfo
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smscat.relay.core import care

_KEY = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
Key = Annotated[str, Field(pattern=_KEY, description="lower-case id: letters, digits, - _")]

DEFAULT_PLAN = "discharge"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepConfig(_Frozen):
    key: Key
    day: int = Field(ge=0, le=3650, description="days after the anchor date")
    text: str = Field(
        min_length=1,
        max_length=300,
        description="the SMS; variables {nickname} {dept} {doctor} {date}, {link} to the page;"
        " never a diagnosis",
    )
    menu: dict[str, str] = Field(
        default_factory=dict, description='reply menu, e.g. {"1": "好转", "3": "加重"}'
    )
    warn: list[str] = Field(default_factory=list, description="menu answers that are red flags")

    @field_validator("text")
    @classmethod
    def _template(cls, value: str) -> str:
        problem = care.template_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("menu")
    @classmethod
    def _menu(cls, value: dict[str, str]) -> dict[str, str]:
        for answer, label in value.items():
            if not re.fullmatch(r"[0-9A-Za-z]{1,2}", answer):
                raise ValueError("a menu answer is 1–2 letters or digits")
            if not 1 <= len(label) <= 20:
                raise ValueError("a menu label is 1 to 20 characters")
        return value

    @model_validator(mode="after")
    def _warnings(self) -> Self:
        if not set(self.warn) <= set(self.menu):
            raise ValueError("warn: each must be one of the menu's answers")
        return self

    def to_step(self) -> care.Step:
        return care.Step(
            self.key, self.day, self.text, tuple(self.menu.items()), frozenset(self.warn)
        )


class PlanConfig(_Frozen):
    name: Key
    title: str = Field(min_length=1, max_length=40, description="what staff call it; no diagnosis")
    steps: list[StepConfig] = Field(min_length=1, max_length=60)
    keywords: list[str] = Field(
        default_factory=list, description="red-flag words in any reply (胸痛, 出血, 发烧 …)"
    )
    rota: list[Key] = Field(
        default_factory=list, description="staff ids who get red flags, in order"
    )
    remind_after_days: float = Field(2, gt=0, le=60, description="no answer this long: a reminder")
    call_after_days: float = Field(2, gt=0, le=60, description="no answer to it: listed for a call")
    page: str | None = Field(
        None,
        min_length=1,
        max_length=2000,
        description="a page a step's {link} opens (behind a token): it may name the condition;"
        " variables {nickname} {dept} {doctor} {date}",
    )

    @field_validator("page")
    @classmethod
    def _page(cls, value: str | None) -> str | None:
        problem = None if value is None else care.template_problem(value, care.PAGE_VARIABLES)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _usable(self) -> Self:
        problem = care.plan_problem(self.to_plan())
        if problem is not None:
            raise ValueError(problem)
        return self

    def to_plan(self) -> care.Plan:
        return care.Plan(
            name=self.name,
            title=self.title,
            steps=tuple(s.to_step() for s in self.steps),
            keywords=tuple(w for w in self.keywords if w.strip()),
            rota=tuple(self.rota),
            remind_after=timedelta(days=self.remind_after_days),
            call_after=timedelta(days=self.call_after_days),
            page=self.page,
        )


def _default_plans() -> list[PlanConfig]:
    menu = {"1": "好转", "2": "没变化", "3": "加重"}
    text = "【{dept}】{nickname}您好，您{date}出院已{days}，恢复得怎么样？"
    steps = [
        StepConfig(
            key=f"d{day}", day=day, text=text.replace("{days}", label), menu=menu, warn=["3"]
        )
        for day, label in ((1, "1天"), (7, "一周"), (30, "一个月"))
    ]
    return [
        PlanConfig(
            name=DEFAULT_PLAN,
            title="出院随访",
            steps=steps,
            keywords=["胸痛", "出血", "发烧", "呼吸困难", "昏迷"],
        )
    ]


def _hours(value: str) -> str:
    if not _HOURS.match(value):
        raise ValueError('a window is "HH:MM-HH:MM"')
    start, end = value.split("-")
    if time.fromisoformat(end) <= time.fromisoformat(start):
        raise ValueError("the window must end after it starts, on the same day")
    return value


class CareConfig(_Frozen):
    """``care:`` in config.yaml: the department's follow-up plans and when their SMS may go."""

    plans: list[PlanConfig] = Field(default_factory=_default_plans)
    send_window: str = Field("09:00-20:00", description="local hours a plan's SMS may go")
    gap_hours: float = Field(
        20, ge=0, le=24 * 14, description="least time between two to a patient"
    )
    working_hours: str = Field("08:00-17:30", description="local hours that count to a deadline")
    working_days: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday … 6 = Sunday"
    )
    ack_within_hours: float = Field(
        2, gt=0, le=72, description="working hours to acknowledge a red flag"
    )

    _windows = field_validator("send_window", "working_hours")(lambda cls, v: _hours(v))

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if not all(0 <= d <= 6 for d in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [p.name for p in self.plans]
        if len(set(names)) != len(names):
            raise ValueError("plans: two plans have the same name")
        return self

    def options(self, zone: tzinfo) -> care.CareOptions:
        start, end = (time.fromisoformat(t) for t in self.send_window.split("-"))
        w_start, w_end = (time.fromisoformat(t) for t in self.working_hours.split("-"))
        return care.CareOptions(
            plans={p.name: p.to_plan() for p in self.plans},
            window=care.Window(start, end, timedelta(hours=self.gap_hours), zone),
            hours=care.WorkingHours(w_start, w_end, frozenset(self.working_days), zone),
            ack_within=timedelta(hours=self.ack_within_hours),
        )


def link_problem(config: CareConfig, public_url: str | None) -> str | None:
    """Why config.yaml's plans cannot be sent as they are, or None: a step's ``{link}`` is an
    absolute address, so it needs ``web.public_url`` (never the request's Host header)."""
    if public_url:
        return None
    for i, plan in enumerate(config.plans):
        for j, step in enumerate(plan.steps):
            if care.uses_link(step.to_step()):
                return (
                    f"care.plans[{i}].steps[{j}].text uses {{link}}: set web.public_url, the"
                    " address patients open it at"
                )
    return None


def parse_plan(body: str) -> care.Plan:
    """A plan an admin saved (JSON, as config.yaml's); pydantic's ValidationError if bad."""
    return PlanConfig.model_validate_json(body).to_plan()
