"""随访, follow-up plans the hospital starts: what a plan is and what its planner decides.

("Care plans" in the code: "follow-up" already names a patient's second message in a thread.)

* A :class:`Plan` is a list of :class:`Step` at day offsets from an anchor date (a visit, a
  discharge, an operation); a step's text is a template over :data:`VARIABLES` only, so that no
  diagnosis reaches an SMS by way of a variable (:func:`template_problem` says what is wrong with
  one); a step may carry a reply menu, some of whose answers are warnings. A plan may have a
  ``page`` (it may name the condition) that a step links to with ``{link}``: the page is shown
  only behind the link's unguessable token, so the SMS itself still names nothing.
* :func:`next_action` is the planner: for one enrolment, from what was sent and answered, the
  one thing due next — a step, the step's one reminder, a call listed for a patient who answered
  neither, the end — or when to look again. SMS go only inside the department's window
  (:class:`Window`) and never two to one patient within its gap (:func:`send_at`).
* :func:`read_reply` reads a patient's SMS as a menu answer and finds a plan's red-flag words.
* An escalation must be acknowledged within working hours (:func:`add_working`), or it goes to
  the next present person on the plan's rota (:func:`rota_next`).

Pure: ``now`` is always a parameter; it must never read a clock, do I/O, or import anything
outside the standard library and the relay core.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final, Literal

from smscat.relay.core import numerals, schedule, texts

VARIABLES: Final = frozenset({"nickname", "dept", "doctor", "date", "link"})
PAGE_VARIABLES: Final = VARIABLES - {"link"}  # a plan's page: it is what the link opens
EVENTS: Final = ("returned", "readmitted", "deceased", "opted_out", "resumed")
Event = Literal["returned", "readmitted", "deceased", "opted_out", "resumed"]
ENDING_EVENTS: Final = frozenset({"readmitted", "deceased", "opted_out"})  # cancel what is left
CONSENT_WAYS: Final = ("verbal", "written", "electronic")
RUNNING: Final = frozenset({"active", "paused"})  # an enrolment that may still send

# what may end a menu answer ("3。", "3!") and still be the answer alone
_TRAILING: Final = " \t\r\n。.!！~～"


# -- plans ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # stable name ("d7"): sends and replies refer to it, so edits keep history
    day: int  # days after the anchor date
    text: str  # a template over VARIABLES
    menu: tuple[tuple[str, str], ...] = ()  # ("1", "好转"), … : the answers a reply may be
    warn: frozenset[str] = frozenset()  # menu answers that raise a red flag

    @property
    def asks(self) -> bool:
        """Whether the step waits for an answer (it has a menu): only then is a silent patient
        reminded, and then listed for a call."""
        return bool(self.menu)


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    title: str  # what staff call it ("出院随访"); never a diagnosis, it may reach an SMS
    steps: tuple[Step, ...]
    keywords: tuple[str, ...] = ()  # red-flag words in any reply (胸痛, 出血, 发烧 …)
    rota: tuple[str, ...] = ()  # staff ids who get red flags, in order
    remind_after: timedelta = timedelta(days=2)  # no answer to a step this long: one reminder
    call_after: timedelta = timedelta(days=2)  # no answer to the reminder this long: a call
    page: str | None = None  # a template over PAGE_VARIABLES, shown only behind a {link}

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


def template_variables(text: str) -> set[str]:
    """The ``{name}`` variables a template uses (ValueError for a broken template)."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError("a variable is a plain {name}")
        names.add(name)
    return names


def template_problem(text: str, allowed: frozenset[str] = VARIABLES) -> str | None:
    """What is wrong with a step's template (or a page's, ``allowed`` :data:`PAGE_VARIABLES`),
    or None: it must parse, and use only ``allowed`` (anything else could carry a diagnosis
    into an SMS)."""
    try:
        used = template_variables(text)
    except ValueError:
        names = ", ".join(f"{{{n}}}" for n in sorted(allowed))
        return f"braces: write one of {names}; {{{{ for a brace"
    unknown = sorted(used - allowed)
    if unknown:
        return f"unknown variable(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
    return None


def uses_link(step: Step) -> bool:
    """Whether the step's SMS carries a link to the plan's page (each send makes its token)."""
    try:
        return "link" in template_variables(step.text)
    except ValueError:
        return False


def render(step: Step, values: dict[str, str], lang: str = texts.DEFAULT_LANG) -> str:
    """The step's SMS text, its menu after it ("回复1 好转，2 没变化，3 加重")."""
    text = step.text.format_map({name: values.get(name, "") for name in VARIABLES})
    return f"{text}\n{menu_line(step, lang)}" if step.menu else text


def page_text(plan: Plan, values: dict[str, str]) -> str | None:
    """The plan's page for one patient (None: the plan has none)."""
    if plan.page is None:
        return None
    return plan.page.format_map({name: values.get(name, "") for name in PAGE_VARIABLES})


def menu_line(step: Step, lang: str = texts.DEFAULT_LANG) -> str:
    """The step's reply menu in words ("回复1 好转，2 没变化，3 加重"); empty without one."""
    if not step.menu:
        return ""
    sep = "，" if lang == texts.DEFAULT_LANG else ", "  # (the language's list comma)
    items = sep.join(f"{k} {label}" for k, label in step.menu)
    return texts.render("block.care_menu", lang, items=items)


def plan_problem(plan: Plan) -> str | None:
    """What makes ``plan`` unusable, or None: steps in day order with unique keys, good
    templates, warnings that are menu answers, a ``{link}`` only to a page the plan has."""
    if not plan.steps:
        return "a plan needs at least one step"
    keys = [s.key for s in plan.steps]
    if len(set(keys)) != len(keys):
        return "step keys must be unique"
    if plan.page is not None:
        problem = template_problem(plan.page, PAGE_VARIABLES)
        if problem is not None:
            return f"page: {problem}"
    if [s.day for s in plan.steps] != sorted(s.day for s in plan.steps):
        return "steps must be in day order"
    for s in plan.steps:
        problem = template_problem(s.text)
        if problem is not None:
            return f"step {s.key}: {problem}"
        if plan.page is None and uses_link(s):
            return f"step {s.key}: {{link}} needs the plan's page (page: the text it opens)"
        answers = {k for k, _ in s.menu}
        if not s.warn <= answers:
            return f"step {s.key}: a warning must be one of its menu answers"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolment:
    """One patient in one plan (a row of ``care_enrolments``); the nickname stays out of reprs."""

    id: int
    plan: str
    phone_id: int
    nickname: str = field(repr=False)
    anchor: date
    doctor_id: str | None
    department: str
    status: str  # active, paused, completed, cancelled
    ended_reason: str | None
    consent_by: str
    consent_at: datetime
    consent_how: str
    source: str
    next_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation:
    """A red flag and who must acknowledge it (a row of ``care_escalations``)."""

    id: int
    enrolment_id: int
    reply_id: int
    person_id: str | None  # None: nobody left on the rota (the dashboard has it)
    code: int | None
    rota_index: int
    raised_at: datetime
    deadline_at: datetime
    acked_at: datetime | None
    acked_by: str | None


# -- when an SMS may go ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """The department's hours for follow-up SMS (local), and the least time between two."""

    start: time = time(9)
    end: time = time(20)
    gap: timedelta = timedelta(hours=20)
    zone: tzinfo = UTC

    def allowed(self, at: datetime) -> datetime:
        """The first moment at or after ``at`` inside the window."""
        closed = f"{self.end.isoformat('minutes')}-{self.start.isoformat('minutes')}"
        return schedule.quiet_until(at, [closed], self.zone) or at


def step_due(step: Step, anchor: date, window: Window) -> datetime:
    """When ``step`` is due: ``day`` days after the anchor date, at the window's opening."""
    local = datetime.combine(anchor + timedelta(days=step.day), window.start, window.zone)
    return local.astimezone(UTC)


def send_at(due: datetime, last_sent: datetime | None, window: Window) -> datetime:
    """When an SMS due at ``due`` may go to a patient last texted (by a plan) at
    ``last_sent``: after the gap, inside the window."""
    at = due if last_sent is None else max(due, last_sent + window.gap)
    return window.allowed(at)


# -- the planner ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """What happened in one enrolment, as far as the planner cares."""

    anchor: date
    sent: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (step, kind) → at
    answered: frozenset[str] = frozenset()  # steps the patient replied to
    listed: frozenset[str] = frozenset()  # steps listed for a call
    last_sent: datetime | None = None  # the patient's latest plan SMS, of any enrolment
    first_day: date | None = None  # a step due before this local day is never sent (enrolled late)


@dataclass(frozen=True, slots=True)
class SendStep:
    step: Step


@dataclass(frozen=True, slots=True)
class Remind:
    step: Step


@dataclass(frozen=True, slots=True)
class ListForCall:
    step: Step


@dataclass(frozen=True, slots=True)
class Wait:
    until: datetime


@dataclass(frozen=True, slots=True)
class Complete:
    pass


Action = SendStep | Remind | ListForCall | Wait | Complete


def current_step(plan: Plan, progress: Progress) -> Step | None:
    """The latest step sent: the one a reply answers."""
    sent = [s for s in plan.steps if (s.key, "step") in progress.sent]
    return sent[-1] if sent else None


def next_step(
    plan: Plan, anchor: date, first_day: date | None, sent: Collection[str]
) -> Step | None:
    """The plan's next step still to go: the first not ``sent`` (by key) whose day is not
    before ``first_day`` (the local day the patient was enrolled: a patient enrolled on day 10
    gets no "day 1" SMS)."""
    first = first_day or anchor
    return next(
        (s for s in plan.steps if s.key not in sent and anchor + timedelta(days=s.day) >= first),
        None,
    )


def next_action(plan: Plan, progress: Progress, now: datetime, window: Window) -> Action:
    """The one thing due for an enrolment at ``now``, or :class:`Wait` until something is.

    Steps go in order, each at its day (a step whose time passed while the enrolment was
    paused goes as soon as it may; one due before the enrolment's first day never goes: a patient
    enrolled on day 10 gets no "day 1" SMS). Only the current step is chased: unanswered for
    ``remind_after``, it is reminded once; the reminder unanswered for ``call_after``, the
    patient is listed for a call. A later step due first supersedes both. An SMS whose time
    has passed goes only when ``now`` itself is inside the window and the gap. The enrolment is
    complete once the last step went and, if it asks, was answered, or its call listed.
    """
    current = current_step(plan, progress)
    upcoming = next_step(plan, progress.anchor, progress.first_day, {k for k, _ in progress.sent})
    candidates: list[tuple[datetime, Action]] = []
    if upcoming is not None:
        due = step_due(upcoming, progress.anchor, window)
        candidates.append((send_at(max(due, now), progress.last_sent, window), SendStep(upcoming)))
    if current is not None and current.asks and current.key not in progress.answered:
        stepped = progress.sent[(current.key, "step")]
        reminded = progress.sent.get((current.key, "reminder"))
        if reminded is None:
            due = max(stepped + plan.remind_after, now)
            candidates.append((send_at(due, progress.last_sent, window), Remind(current)))
        elif current.key not in progress.listed:
            candidates.append((reminded + plan.call_after, ListForCall(current)))
    if not candidates:
        return Complete()
    at, action = min(candidates, key=lambda c: c[0])  # (a tie: the step, listed first)
    return action if at <= now else Wait(at)


# -- replies --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    choice: str | None  # the menu answer, None: free text
    red_flag: bool
    keywords: tuple[str, ...]  # the plan's red-flag words found


def read_reply(plan: Plan, step: Step | None, text: str) -> Reading:
    """A patient's reply to ``step``: a menu answer when the whole text (NFKC, Chinese numerals
    read as digits, trailing punctuation off) is one; red when that answer is a warning or the
    text holds a red-flag word."""
    plain = unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING).strip()
    digits = numerals.flatten(plain) if plain and len(plain) <= 3 else plain
    choice = None
    if step is not None:
        answers = {k for k, _ in step.menu}
        choice = next((c for c in (plain, digits) if c in answers), None)
    folded = unicodedata.normalize("NFKC", text).casefold()
    found = tuple(w for w in plan.keywords if unicodedata.normalize("NFKC", w).casefold() in folded)
    warned = step is not None and choice is not None and choice in step.warn
    return Reading(choice, warned or bool(found), found)


# -- escalations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When staff are expected to answer an escalation (local): weekdays (0 = Monday)."""

    start: time = time(8)
    end: time = time(17, 30)
    days: frozenset[int] = frozenset(range(5))
    zone: tzinfo = UTC


def add_working(at: datetime, span: timedelta, hours: WorkingHours) -> datetime:
    """The moment ``span`` of working time after ``at`` (UTC): time outside working hours does
    not count, so an escalation raised on Friday evening is due on Monday morning."""
    if hours.end <= hours.start or not hours.days:
        return at + span  # no working hours to count: plain time
    left = span
    local = at.astimezone(hours.zone)
    for _ in range(366 * 2):
        opens = datetime.combine(local.date(), hours.start, hours.zone)
        closes = datetime.combine(local.date(), hours.end, hours.zone)
        if local.weekday() in hours.days and local < closes:
            begin = max(local, opens)
            if begin + left <= closes:
                return (begin + left).astimezone(UTC)
            left -= closes - begin
        nxt = local.date() + timedelta(days=1)
        local = datetime.combine(nxt, time(0), hours.zone)
    return at + span  # (unreachable for any sane hours)


def rota_of(plan: Plan, doctor_id: str | None) -> tuple[str, ...]:
    """Who gets an enrolment's red flags, in order: the plan's rota, else its doctor."""
    if plan.rota:
        return plan.rota
    return (doctor_id,) if doctor_id else ()


def rota_next(rota: Sequence[str], after: int, present: Collection[str]) -> int | None:
    """The position on ``rota`` of the next present person after position ``after`` (-1: from
    the start), or None when nobody is left."""
    for i in range(after + 1, len(rota)):
        if rota[i] in present:
            return i
    return None


def ended_status(event: Event) -> Literal["active", "paused", "cancelled"]:
    """What an event from the hospital's systems does to a running enrolment: ``returned`` (back
    in hospital for a visit) pauses it, ``resumed`` resumes it, the others cancel the rest."""
    if event == "returned":
        return "paused"
    if event == "resumed":
        return "active"
    return "cancelled"


@dataclass(frozen=True, slots=True)
class CareOptions:
    """The department's follow-up settings (config.yaml ``care:``)."""

    plans: dict[str, Plan] = field(default_factory=dict)
    window: Window = Window()
    hours: WorkingHours = WorkingHours()
    ack_within: timedelta = timedelta(hours=2)  # working time to acknowledge a red flag
