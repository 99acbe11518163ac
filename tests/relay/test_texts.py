"""The SMS catalogue: both languages, the same placeholders, short, and no phone numbers."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.lifecycle import Status
from smscat.relay.core.texts import DEFAULT_LANG, LANGS, TEXTS, placeholders, render

NEEDED = {
    "question_to_expert": {"dept", "code", "nickname", "text"},
    "followup_to_expert": {"dept", "code", "nickname", "text"},
    "answer_to_patient": {"dept", "code", "expert", "text"},
    "verification_code": {"dept", "code", "minutes"},
    "unmatched_list_to_expert": {"codes"},
    "list_to_expert": {"items"},
    "list_empty": set(),
    "paused": {"hours"},
    "paused_indefinitely": set(),
    "resumed": set(),
    "help_to_expert": set(),
    "stop_confirmed": set(),
    "welcome_expert": {"dept"},
    "delivery_delayed": set(),
    **{f"status.{status.value}": set() for status in Status},
}
KEYS = sorted(TEXTS)
SMS_PART = {"zh-CN": 70, "en": 160}  # one UCS-2 part; one GSM-7 part


def test_default_language_is_chinese() -> None:
    assert DEFAULT_LANG == "zh-CN"
    assert LANGS == ("zh-CN", "en")


@pytest.mark.parametrize("key", sorted(NEEDED))
def test_every_needed_text_exists_with_its_placeholders(key: str) -> None:
    assert placeholders(TEXTS[key][DEFAULT_LANG]) == NEEDED[key]


@pytest.mark.parametrize("key", KEYS)
def test_every_text_has_every_language_with_the_same_placeholders(key: str) -> None:
    assert set(TEXTS[key]) == set(LANGS)
    assert placeholders(TEXTS[key]["en"]) == placeholders(TEXTS[key]["zh-CN"])


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("lang", LANGS)
def test_no_text_holds_a_phone_number_like_digit_run(key: str, lang: str) -> None:
    assert not re.search(r"[0-9０-９]{7,}", TEXTS[key][lang])


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("lang", LANGS)
def test_fixed_wording_fits_one_sms_part(key: str, lang: str) -> None:
    fixed = "".join(literal for literal, *_ in string.Formatter().parse(TEXTS[key][lang]))
    assert len(fixed) <= SMS_PART[lang], f"{key}/{lang} has {len(fixed)} fixed characters"


@pytest.mark.parametrize("key", KEYS)
def test_chinese_is_chinese(key: str) -> None:
    assert re.search(r"[\u4e00-\u9fff]", TEXTS[key]["zh-CN"])


def test_render_fills_placeholders() -> None:
    params = {"dept": "心内科", "code": "#12", "expert": "王", "text": "请空腹来，{code}不用管"}
    assert render("answer_to_patient", **params) == (
        "【心内科】王医生回复#12：请空腹来，{code}不用管（回复本短信可追问，回复TD退订）"
    )
    assert render("answer_to_patient", "en", **params).startswith("[心内科] Dr 王 answered #12:")


def test_render_ignores_extra_params() -> None:
    assert render("list_empty", unused="x") == "目前没有待回复的问题。"


def test_unknown_key_is_named() -> None:
    with pytest.raises(KeyError, match="no_such_text"):
        render("no_such_text")


def test_unknown_language_is_named() -> None:
    with pytest.raises(KeyError, match="fr"):
        render("list_empty", "fr")


def test_missing_param_is_named_but_no_value_is_shown() -> None:
    with pytest.raises(ValueError, match="text") as info:
        render("answer_to_patient", dept="心内科", code="#12", expert="王医生的秘密")
    assert "秘密" not in str(info.value)
    assert "code" not in str(info.value).split("parameter")[-1]  # only the missing one


def test_every_missing_param_is_named() -> None:
    with pytest.raises(ValueError, match="code, dept, nickname, text"):
        render("question_to_expert")


@given(
    key=st.sampled_from(KEYS),
    lang=st.sampled_from(LANGS),
    value=st.text(max_size=20),
)
def test_render_inserts_any_value_verbatim(key: str, lang: str, value: str) -> None:
    names = placeholders(TEXTS[key][lang])
    rendered = render(key, lang, **dict.fromkeys(names, value))
    assert rendered == TEXTS[key][lang].format(**dict.fromkeys(names, value))
    if names:
        assert value in rendered
