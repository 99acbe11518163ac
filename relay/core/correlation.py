"""Reply correlation: which open thread an SMS reply answers, or none (it is held as unmatched).

One rule, for experts' and patients' replies alike:

* a reply with a code answers the open thread with that code (one that was answered already
  too: a second message is real), and no thread when none has it;
* without a code, it answers the only open thread;
* without a code and with several open threads, it answers the one still waiting for the
  sender's reply, when exactly one is; otherwise none (the sender is asked for the code).

Who waits for whom is the caller's to say: for an expert, a thread waits while its latest fact is
the patient's message (:data:`.lifecycle.AWAITING_ANSWER`); a patient owes no answer, so for a
patient no thread waits and the last rule never picks one.

It must never: do I/O, read the clock, or see message text or a phone number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpenThread:
    id: int
    code: int
    waiting: bool  # the thread waits for the reply of the one who sent this SMS


def correlate(open_threads: Sequence[OpenThread], code: int | None) -> OpenThread | None:
    """The thread the reply answers (``code``: the code it starts with, if any), or None."""
    if code is not None:
        found = [t for t in open_threads if t.code == code]
    elif len(open_threads) == 1:
        found = list(open_threads)
    else:
        found = [t for t in open_threads if t.waiting]
    return found[0] if len(found) == 1 else None
