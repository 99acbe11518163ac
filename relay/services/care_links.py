"""随访 pages behind a step's ``{link}``: what a token opens, for the patient it was sent to.

A plan's ``page`` may name the condition and say what to do, so it is never in an SMS: a step
links to it with a fresh unguessable token per send (:meth:`.CarePlans._link` keeps only its
hash). The page is the plan's, filled in with the enrolment's nickname, department, doctor and
date; an unknown token, or one of a patient whose number was erased, opens nothing. It must
never return or log the patient's number, or log the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smscat.relay.core import care
from smscat.relay.services.care import CarePlans
from smscat.relay.services.context import token_hash
from smscat.storage import care as care_db


@dataclass(frozen=True, slots=True)
class CarePage:
    title: str  # the plan's title (what staff call it)
    text: str = field(repr=False)  # the plan's page for this patient: it may name the condition


async def care_page(plans: CarePlans, token: str) -> CarePage | None:
    """The page ``token`` opens, or None (unknown, erased, or the plan has no page any more)."""
    async with plans.db.reading() as conn:
        enrolment = await care_db.linked(conn, token_hash(token))
        if enrolment is None:
            return None
        plan = (await plans.plans(conn)).get(enrolment.plan)
        if plan is None:
            return None
        text = care.page_text(plan, await plans.variables(conn, enrolment))
    return None if text is None else CarePage(plan.title, text)
