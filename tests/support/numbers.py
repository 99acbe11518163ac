"""The written forms of phone numbers the masking, search and erasure tests share, and this
suite's own reading of digits in a text.

``tests/relay/data/number_formats.json`` is a labelled corpus: each entry a text as a patient
or an expert might type it and the digits of the number in it. ``not_numbers.json`` lists what
only looks like a number (dates, blood pressures, doses, lab values, prices, codes).
:func:`own_digit_runs` reads digits independently of ``relay/numbers.py``, so the tests do not
judge the detector by the detector.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "relay" / "data"
FORMATS: list[dict[str, str]] = json.loads((DATA / "number_formats.json").read_text("utf-8"))
NOT_NUMBERS: list[str] = json.loads((DATA / "not_numbers.json").read_text("utf-8"))
MASK = "*"

OWN_CHINESE = dict(
    zip(
        "〇零○一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖",
        "000111222223334455666778899",
        strict=True,
    )
)


def own_digit_runs(text: str) -> list[str]:
    """The runs of digits a reader sees in ``text``, as ASCII: digits of any script and Chinese
    numerals count; punctuation, symbols, spaces, line breaks, invisible and combining
    characters between them are ignored; a letter, an ideograph or ``*`` ends a run."""
    runs, run = [], []
    for ch in unicodedata.normalize("NFKC", text):
        value = OWN_CHINESE.get(ch)
        if value is None and unicodedata.digit(ch, None) is not None:
            value = str(unicodedata.digit(ch))
        if value is not None:
            run.append(value)
        elif ch != MASK and unicodedata.category(ch)[0] in "ZPSCM":
            continue
        elif run:
            runs.append("".join(run))
            run = []
    if run:
        runs.append("".join(run))
    return runs


def survivors(text: str, digits: str, at_least: int = 7) -> list[str]:
    """Pieces of ``digits`` (``at_least`` in a row) still readable in ``text``."""
    runs = own_digit_runs(text)
    pieces = {digits[i : i + at_least] for i in range(len(digits) - at_least + 1)}
    return sorted(piece for piece in pieces if any(piece in run for run in runs))
