"""What a typed character reads as, for the phone-number detector (:mod:`.numbers`).

People type digits in every script and form: full-width ``１``, Arabic-Indic, mathematical
bold, circled ``①`` or superscript digits, and Chinese numerals (一三九…, 壹叁玖…, 幺 for 1,
两 for 2, 〇/零/○ for 0); and they put any separator between the groups of a number. Each
character is read (:func:`reads_as`) as ASCII digits, one separator character per kind
(:data:`SEPARATORS`), itself (NFKC) or nothing (zero-width and combining characters);
:func:`normalise` reads a whole text and keeps the way back to the original characters, so a
span found in the normalised text is a span of what the person typed. :data:`DIGIT_CLASS`
and :data:`TYPED_GAP_CLASS` are the same reading as regular-expression classes, for a quick
look at a text before it is read.

Pure: standard library only, no I/O, no logging. It decides nothing about what is a number.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

# The numerals people spell a phone number with: everyday, financial (大写), traditional forms,
# and the ways digits are read aloud (幺 for 1, 两 for 2); ○ (a white circle) is the zero that
# Chinese input methods offer.
CHINESE_DIGITS: Final[dict[str, str]] = {
    "〇": "0", "零": "0", "○": "0",
    "一": "1", "壹": "1", "幺": "1",
    "二": "2", "贰": "2", "貳": "2", "两": "2", "兩": "2",
    "三": "3", "叁": "3", "參": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9",
}  # fmt: skip

# Normalised separators: one character per kind.
SEPARATORS: Final = " \n-./,_()+"
# Separators NFKC leaves alone, or leaves as something else than their kind.
_SEPARATOR_KIND: Final[dict[str, str]] = {
    "\t": " ",
    "\r": "\n",
    "\v": "\n",
    "\f": "\n",
    "\x85": "\n",
    "~": "-",
    "\u2212": "-",  # minus sign
    "\u2043": "-",  # hyphen bullet
    "\u3002": ".",  # 。
    "\u00b7": ".",  # middle dot
    "\u2022": ".",  # bullet
    "\u2027": ".",  # hyphenation point
    "\u2219": ".",  # bullet operator
    "\u22c5": ".",  # dot operator
    "\u30fb": ".",  # katakana middle dot
    "\\": "/",
    "|": "/",
    "\u2215": "/",  # division slash
    "\u29f8": "/",  # big solidus
    ";": ",",
    "\u3001": ",",  # 、
    "[": "(",
    "{": "(",
    "]": ")",
    "}": ")",
}
_DROPPED_CATEGORIES: Final = frozenset({"Cf", "Mn", "Me"})  # zero-width, marks, keycaps
_CACHE_LIMIT: Final = 20_000  # characters whose normal form is remembered


# Every character that reads as one or more digits: \d (decimal digits of every script) and
# what else normalises to a digit (superscripts, circled and parenthesized numbers, Chinese
# numerals and their compatibility forms, fractions…). At most two digits in a row come from
# one character (⑩). tests/relay/core/test_masking.py checks this against every code point.
DIGIT_CLASS: Final = (
    r"\d"
    "\u00b2-\u00b3\u00b9\u00bc-\u00be\u1369-\u1371\u19da\u2070\u2074-\u2079"
    "\u2080-\u2089\u2150-\u215f\u2189\u2460-\u249b\u24ea\u24f5-\u24fd\u24ff\u25cb"
    "\u2776-\u277e\u2780-\u2788\u278a-\u2792\u2f00\u2f06\u2f0b\u2f33\u3007"
    "\u3192-\u3195\u3220-\u3228\u3251-\u325f\u3280-\u3288\u32b1-\u32cb\u3358-\u3370"
    "\u3378-\u3379\u339f-\u33a6\u33a8\u33af\u33e0-\u33fe\u4e00\u4e03\u4e09\u4e24"
    "\u4e5d\u4e8c\u4e94\u4f0d\u5169\u516b\u516d\u53c1\u53c3\u56db\u58f9\u5e7a\u634c"
    "\u67d2\u7396\u8086\u8cb3\u8d30\u9646\u9678\u96f6\uf96b\uf978\uf9b2\uf9d1\uf9d3"
    "\uffee\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a"
    "\U0001f100-\U0001f10a\U0001f214\U0001f229-\U0001f22a\U0001f241-\U0001f242"
)
# What may stand between two digits of one number as typed: anything not a letter or a digit
# (\W), the underscore, and the few letters that normalise to a space or to nothing. Checked
# against every code point too.
TYPED_GAP_CLASS: Final = r"\W_\u037a\ufc5e-\ufc63\ufe70-\ufe7e\uff9e\uff9f"
MOST_DIGITS_PER_CHAR: Final = 2  # "⑩"


def _normal_form(ch: str) -> str:
    """What one character reads as: digits, a separator, itself (NFKC) or nothing."""
    if ch in CHINESE_DIGITS:
        return CHINESE_DIGITS[ch]
    if ch in _SEPARATOR_KIND:
        return _SEPARATOR_KIND[ch]
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if "0" <= c <= "9" or c in SEPARATORS:
            out.append(c)
        elif c in CHINESE_DIGITS:
            out.append(CHINESE_DIGITS[c])
        elif c in _SEPARATOR_KIND:
            out.append(_SEPARATOR_KIND[c])
        elif c.isdigit():  # Numeric_Type Decimal or Digit: any script, circled, superscript
            out.append(str(unicodedata.digit(c)))
        else:
            category = unicodedata.category(c)
            if category in _DROPPED_CATEGORIES:
                continue
            out.append(
                {"Zs": " ", "Zl": "\n", "Zp": "\n", "Pd": "-", "Ps": "(", "Pe": ")"}.get(
                    category, c
                )
            )
    return "".join(out)


_UNEVEN: set[str] = set()  # characters that normalise to more or fewer than one character


class _Table(dict[int, str]):
    """``str.translate``'s table, filled in as characters are met (from any thread: SQLite
    runs the board's search and erasure's scan in its own; a race computes a value twice)."""

    def __missing__(self, key: int) -> str:
        value = _normal_form(chr(key))
        if len(value) != 1:
            _UNEVEN.add(chr(key))
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


_TABLE: Final = _Table()


def reads_as(ch: str) -> str:
    """What one character reads as: ASCII digits, a separator, itself or nothing (``""``)."""
    return _TABLE[ord(ch)]


def flatten(text: str) -> str:
    """``text`` read character by character, without the way back (see :func:`normalise`)."""
    return text.translate(_TABLE)


@dataclass(frozen=True, slots=True)
class Normalised:
    """A text as the detector reads it, with the way back to the original characters."""

    text: str
    origin: tuple[int, ...] | None  # original index of each character; None: the same index

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised characters ``start:end`` (end > start)."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    """``text`` with every digit ASCII and every separator one character per kind."""
    flat = flatten(text)
    if len(flat) == len(text) and _UNEVEN.isdisjoint(text):
        return Normalised(flat, None)
    origin: list[int] = []
    for index, ch in enumerate(text):
        origin.extend([index] * len(_TABLE[ord(ch)]))
    return Normalised(flat, tuple(origin))
