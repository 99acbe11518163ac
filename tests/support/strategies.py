"""Hypothesis strategies for SMS texts, addresses and time stamps, shared by the PDU codec tests.

The character families (GSM-7 with escapes, CJK, emoji, rare CJK beyond the BMP) come from the
simulator's own GSM-7 tables; each test file mixes them into the texts it needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from smscat.hwsim import gsm7

GSM_CHARS = [c for i, c in enumerate(gsm7.BASIC) if i != gsm7.ESC] + list(gsm7.EXTENSION.values())
gsm_char = st.sampled_from(GSM_CHARS)
ext_char = st.sampled_from(list(gsm7.EXTENSION.values()))
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
emoji = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
rare_cjk = st.one_of(st.just("𠮷"), st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF))


def texts(chars: st.SearchStrategy[str], *, max_pieces: int = 8) -> st.SearchStrategy[str]:
    """Texts that reach every part count: single characters mixed with long runs."""
    run = st.tuples(chars, st.integers(1, 120)).map(lambda t: t[0] * t[1])
    return st.lists(st.one_of(chars, run), max_size=max_pieces).map("".join)


def is_alphanumeric(s: str) -> bool:
    """Whether ``s`` can only be an alphanumeric address: GSM-7, at most 11 septets, no number."""
    values = gsm7.septets(s)
    return (
        values is not None
        and len(values) <= 11
        and not s.startswith("+")
        and not all("0" <= c <= "9" for c in s)
    )


# International, national (or short code) and alphanumeric originator/destination addresses.
addresses = st.one_of(
    st.from_regex(r"\+[1-9][0-9]{3,18}", fullmatch=True),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.text(gsm_char, min_size=1, max_size=11).filter(is_alphanumeric),
)
# Service-centre time stamps: whole seconds in 2000-2099, any quarter-hour offset within ±19:45.
timestamps = st.builds(
    lambda when, quarters: when.replace(tzinfo=timezone(timedelta(minutes=15 * quarters))),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.integers(-79, 79),
)

# Destinations as a person types them: Chinese mobiles with or without spaces and +86, E.164
# numbers of other countries, and service short codes (which stay digits).
_CN_MOBILE_PREFIXES = ("135", "138", "139", "150", "177", "186", "199")
cn_mobiles = st.builds(
    lambda prefix, rest, style: (
        f"+86{prefix}{rest}",
        f"{prefix}{rest}",
        f"{prefix} {rest[:4]} {rest[4:]}",
        f"+86 {prefix}-{rest[:4]}-{rest[4:]}",
    )[style],
    st.sampled_from(_CN_MOBILE_PREFIXES),
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.integers(0, 3),
)
short_codes = st.sampled_from(["10086", "10010", "95566", "95588", "12345", "106900001234"])
destinations = st.one_of(cn_mobiles, short_codes, st.just("+1 650 253 0000"))
