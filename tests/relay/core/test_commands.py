"""Inbound SMS meaning: whole-message commands, thread codes, quick replies, text as typed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smscat.relay.core.commands import Command, Reply, normalise, parse_expert, parse_patient

# --- commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("待办", Command("list")),
        ("LIST", Command("list")),
        ("list", Command("list")),
        ("Ｌｉｓｔ", Command("list")),  # full-width letters are NFKC'd
        ("  待办\n", Command("list")),
        ("　待办　", Command("list")),  # ideographic spaces are trimmed
        ("待办。", Command("list")),  # typed as a sentence: still the command
        ("待办？", Command("list")),
        ("LIST!", Command("list")),
        ("恢复～", Command("resume")),
        ("暂停", Command("pause")),
        ("PAUSE", Command("pause")),
        ("暂停3", Command("pause", hours=3)),
        ("暂停 3", Command("pause", hours=3)),
        ("Pause 3", Command("pause", hours=3)),
        ("pause 0", Command("pause", hours=0)),
        ("暂停 ２４", Command("pause", hours=24)),
        ("暂停　999", Command("pause", hours=999)),
        ("恢复", Command("resume")),
        ("Resume", Command("resume")),
        ("转#12", Command("transfer", code=12)),
        ("转 #12", Command("transfer", code=12)),
        ("转 ＃１２", Command("transfer", code=12)),
        ("转 #0007", Command("transfer", code=7)),
        ("转 #12345", Command("transfer", code=None)),  # too long to name a thread
        ("帮助", Command("help")),
        ("help", Command("help")),
        ("HeLp", Command("help")),
        ("HELP!", Command("help")),  # a doctor's "HELP!" is for us, never for a patient
        ("升#3", Command("escalate", code=3)),
        ("升 ＃3", Command("escalate", code=3)),
    ],
)
def test_expert_commands(text: str, expected: Command) -> None:
    assert parse_expert(text) == expected


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stop", "TD", "td", "退订", " 退订 ", "ＴＤ", "退订。", "TD!", "退订！"],
)
def test_patient_stop(text: str) -> None:
    assert parse_patient(text) == Command("stop")


@pytest.mark.parametrize("text", ["START", "start", "Start", "开通", " 开通 ", "ＳＴＡＲＴ"])
def test_patient_start(text: str) -> None:
    assert parse_patient(text) == Command("start")


@pytest.mark.parametrize(
    "text", ["开通了吗？", "start taking it?", "已经开通医保", "STOP?", "退订？"]
)
def test_start_in_a_sentence_is_a_follow_up(text: str) -> None:
    assert parse_patient(text) == Reply(None, text)


@pytest.mark.parametrize(
    "text",
    [
        "暂停服用阿司匹林两周",  # medical advice, not a pause
        "暂停 1000",  # more than three digits is not a pause
        "暂停3小时",
        "转诊到心外科",  # advice, not a transfer
        "转12",  # a transfer needs the #
        "转 #",
        "LIST了一下",
        "列表",
        "恢复得很好，继续服药",
        "帮助消化的药可以吃",
        "升压药减半",
        "pause now",
        "STOP",  # a patient's word, not an expert's
        "TD",
        "START",
        "开通",
    ],
)
def test_expert_advice_is_a_reply_not_a_command(text: str) -> None:
    assert parse_expert(text) == Reply(None, text)


@pytest.mark.parametrize(
    "text", ["stop taking it?", "TD是什么意思", "退订怎么操作", "待办", "暂停", "帮助", "LIST"]
)
def test_patient_text_is_a_reply(text: str) -> None:
    assert parse_patient(text) == Reply(None, text)


def test_a_huge_transfer_number_neither_raises_nor_names_a_thread() -> None:
    # int() refuses digit strings longer than 4300 characters: parsing must not.
    assert parse_expert("转#" + "9" * 5000) == Command("transfer", code=None)
    assert parse_expert("转#" + "0" * 5000 + "12") == Command("transfer", code=12)


# --- replies and codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "body"),
    [
        ("#12 好的", 12, "好的"),
        ("#12好的", 12, "好的"),
        ("#12:好的", 12, "好的"),
        ("#12：好的", 12, "好的"),
        ("#12,好的", 12, "好的"),
        ("#12，好的", 12, "好的"),
        ("#12-好的", 12, "好的"),
        ("#12 ： 好的", 12, "好的"),
        ("# 12 好的", 12, "好的"),
        ("＃１２ 好的", 12, "好的"),
        ("　#12 好的", 12, "好的"),
        ("#0012 好的", 12, "好的"),
        ("#9999 好的", 9999, "好的"),
        ("#12", 12, ""),
        ("#12 ", 12, ""),
        ("#12，", 12, ""),
        ("#12 ，，好的", 12, "，好的"),  # one separator is the prefix; the next is the answer's
        ("#12Today", 12, "Today"),
        ("#12¨", 12, "¨"),  # NFKC makes " ̈" of it: the space it starts with is the answer's
    ],
)
def test_reply_with_code(text: str, code: int, body: str) -> None:
    for parse in (parse_expert, parse_patient):
        assert parse(text) == Reply(code, body)


@pytest.mark.parametrize(
    "text",
    [
        "#12345 好的",  # five digits are not a code
        "好的 #12",  # a code only counts at the start
        "#",
        "# 好的",
        "#⒈ 好的",  # NFKC makes "#1." of it: the digit ends inside one character
        "＃＃12",
        "12 好的",
    ],
)
def test_no_code(text: str) -> None:
    assert parse_expert(text) == Reply(None, text.strip())


def test_forwarded_text_keeps_full_width_punctuation() -> None:
    # NFKC would turn "，" into "," and "？" into "?": the patient must read what was typed.
    reply = parse_expert("＃１２：请空腹，早上８点来？")
    assert reply == Reply(12, "请空腹，早上８点来？")


def test_reply_repr_hides_the_text() -> None:
    reply = parse_expert("#3 阿司匹林每日一片")
    assert "阿司匹林" not in repr(reply)
    assert "code=3" in repr(reply)


@pytest.mark.parametrize(
    ("text", "code", "quick", "body"),
    [
        ("#12 T3 周一来", 12, "T3", "周一来"),
        ("#12 T3", 12, "T3", ""),
        ("#12 t3", 12, "T3", ""),
        ("#12T3:周一来", 12, "T3", "周一来"),
        ("#12 T3，周一来", 12, "T3", "周一来"),
        ("＃１２　Ｔ１２　周一来", 12, "T12", "周一来"),
        ("#12 T03 周一来", 12, "T3", "周一来"),
        ("#12 T3周一来", 12, None, "T3周一来"),  # the key must end at a space or separator
        ("#12 T123 周一来", 12, None, "T123 周一来"),
        ("#12 Tom 周一来", 12, None, "Tom 周一来"),
    ],
)
def test_expert_quick_reply(text: str, code: int, quick: str | None, body: str) -> None:
    assert parse_expert(text) == Reply(code, body, quick)


@pytest.mark.parametrize("text", ["T3 周一来", "t3"])
def test_quick_key_needs_a_code(text: str) -> None:
    assert parse_expert(text) == Reply(None, text)


def test_patients_have_no_quick_replies() -> None:
    assert parse_patient("#12 T3 好") == Reply(12, "T3 好")


def test_normalise() -> None:
    assert normalise("　Ｐａｕｓｅ　３\n") == "Pause 3"
    assert normalise("，？") == ",?"


# --- properties -------------------------------------------------------------------------------

# Characters that stress the prefix rules: code, digits and separators in both widths, spaces,
# the quick key, and characters whose NFKC is several characters or starts with a space.
TRICKY = [*"#＃0123456789０１２３４５６７８９ 　\t:：,，-－TtＴ²⒈¨½转升暂停", "\u0308", "\n"]
tricky_text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8")), max_size=16
).map("".join)
any_text = st.one_of(st.text(), tricky_text)
Parse = Callable[[str], Command | Reply]
parsers: st.SearchStrategy[Parse] = st.sampled_from([parse_expert, parse_patient])


@given(text=any_text, parse=parsers)
@example(text="转#" + "1" * 5000, parse=parse_expert)
def test_parse_never_raises_and_reply_text_is_a_suffix(text: str, parse: Parse) -> None:
    result = parse(text)
    if isinstance(result, Reply):
        assert text.strip().endswith(result.text)
        assert result.text == result.text.strip()
        if result.code is None:
            assert result.text == text.strip()
            assert result.quick is None
    else:
        assert isinstance(result, Command)


@given(text=any_text, parse=parsers)
def test_text_without_a_leading_code_is_forwarded_whole(text: str, parse: Parse) -> None:
    if re.match(r"\s*#\s*[0-9]", unicodedata.normalize("NFKC", text)):
        return  # may carry a code: the other properties cover it
    result = parse(text)
    if isinstance(result, Reply):
        assert result == Reply(None, text.strip())
    else:
        # Only a whole message of command words and a number escapes forwarding.
        command = normalise(text).upper()
        if parse is parse_patient:
            said = {(Command("stop"), w) for w in ("STOP", "TD", "退订")}
            said |= {(Command("start"), w) for w in ("START", "开通")}
            assert (result, command) in said
        else:
            assert result.name not in ("stop", "start")
            words = set("待办LISTPAUSE暂停恢复RESUME帮助HELP转升#0123456789")
            assert all(char in words or char.isspace() for char in command)


SEPARATORS = ["", " ", ":", "：", ",", "，", "-", " : ", "　", "\t"]


def starts_like_a_prefix_part(body: str, sep: str) -> bool:
    """Whether ``body`` would extend the code or separator, or begin with a quick key."""
    head = "".join(unicodedata.normalize("NFKC", char) for char in body).lstrip()
    if sep == "" and body[:1] and unicodedata.normalize("NFKC", body[0])[:1] in "0123456789":
        return True
    return head[:1] in {":", ",", "-"} or re.match(r"[Tt][0-9]{1,2}(\Z|\s|[:,-])", head) is not None


@given(
    n=st.integers(0, 9999),
    sep=st.sampled_from(SEPARATORS),
    body=any_text,
    parse=parsers,
)
def test_code_then_body(n: int, sep: str, body: str, parse: Parse) -> None:
    if starts_like_a_prefix_part(body, sep):
        return
    assert parse(f"#{n}{sep}{body}") == Reply(n, body.strip())


FULL_WIDTH = str.maketrans("#0123456789:,- T", "＃０１２３４５６７８９：，－　Ｔ")


@given(
    n=st.integers(0, 9999),
    sep=st.sampled_from(SEPARATORS),
    quick=st.one_of(st.none(), st.integers(0, 99)),
    body=any_text,
)
def test_full_and_half_width_prefixes_mean_the_same(
    n: int, sep: str, quick: int | None, body: str
) -> None:
    key = "" if quick is None else f" T{quick} "
    half = f"#{n}{sep}{key}{body}"
    full = f"#{n}{sep}{key}".translate(FULL_WIDTH) + body
    for parse in (parse_expert, parse_patient):
        from_half, from_full = parse(half), parse(full)
        assert isinstance(from_half, Reply)
        assert isinstance(from_full, Reply)
        assert (from_half.code, from_half.quick) == (from_full.code, from_full.quick)
        # Without a code the whole text is forwarded as typed, and for a patient the key is
        # part of the text: in those cases the two texts differ in width only.
        if from_half.code is not None and (quick is None or parse is parse_expert):
            assert from_half.text == from_full.text
    if quick is None and starts_like_a_prefix_part(body, sep):
        return  # the body may extend the code: that both agree is all that can be said
    reply = parse_expert(full)
    assert isinstance(reply, Reply)
    assert (reply.code, reply.quick) == (n, None if quick is None else f"T{quick}")


@given(
    n=st.integers(1, 9999),
    key=st.integers(0, 99),
    letter=st.sampled_from(["T", "t", "Ｔ", "ｔ"]),
    sep=st.sampled_from([" ", ":", "，", " - ", "　"]),
    body=any_text,
)
def test_quick_key_then_body(n: int, key: int, letter: str, sep: str, body: str) -> None:
    if starts_like_a_prefix_part(body, sep):
        return
    assert parse_expert(f"#{n} {letter}{key}{sep}{body}") == Reply(n, body.strip(), f"T{key}")
