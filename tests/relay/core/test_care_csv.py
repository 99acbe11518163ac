"""The discharge-list reader: every encoding, delimiter, header alias, date form and consent word
a hospital's list may use reads as it should, every bad cell is one keyed error on its line, and
no input makes it raise or show a cell's content."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.care_csv import (
    ALIASES,
    CONSENT,
    ERROR_KEYS,
    FILE_ERROR_KEYS,
    ROW_ERROR_KEYS,
    CareRow,
    CsvReading,
    RowError,
    read_discharge_list,
)

HEADER = "手机号,称呼,出院日期,计划,医生,同意\n"


def mainland(digits: str) -> str:
    """The test's own phone check: an 11-digit mainland mobile, as E.164."""
    if not re.fullmatch(r"1[3-9]\d{9}", digits, re.ASCII):
        raise ValueError("not a mainland mobile")
    return "+86" + digits


def read(text: str, encoding: str = "utf-8", **limits: int) -> CsvReading:
    return read_discharge_list(text.encode(encoding), phone=mainland, **limits)


def only_row(text: str, encoding: str = "utf-8") -> CareRow:
    reading = read(text, encoding)
    assert reading.file_error is None
    assert reading.errors == ()
    assert len(reading.rows) == 1
    return reading.rows[0]


def errors_of(body: str) -> list[tuple[int, str, str]]:
    reading = read(HEADER + body)
    assert reading.file_error is None
    return [(e.line, e.column, e.key) for e in reading.errors]


# -- a whole row ----------------------------------------------------------------------------


def test_a_row_reads_whole() -> None:
    row = only_row(HEADER + "13912345678,张先生,2026-12-01,术后随访,dr-wang,是\n")
    assert row == CareRow(
        line=2,
        phone="+8613912345678",
        nickname="张先生",
        anchor=date(2026, 12, 1),
        plan="术后随访",
        doctor="dr-wang",
        consent="verbal",
    )


def test_plan_and_doctor_are_optional_columns_and_cells() -> None:
    row = only_row("phone,name,date,consent\n13912345678,Mr Li,2026-12-01,written\n")
    assert (row.plan, row.doctor, row.consent) == (None, None, "written")
    row = only_row(HEADER + "13912345678,张先生,2026-12-01, , ,是\n")
    assert (row.plan, row.doctor) == (None, None)


def test_the_repr_hides_the_number_and_the_nickname() -> None:
    row = only_row(HEADER + "13912345678,张先生,2026-12-01,,,是\n")
    shown = repr(read(HEADER + "13912345678,张先生,2026-12-01,,,是\n"))
    for text in (repr(row), shown):
        assert "张先生" not in text
        assert "12345678" not in text
        assert "anchor=datetime.date(2026, 12, 1)" in text


# -- encodings, delimiters, line breaks -----------------------------------------------------


BODY = "13912345678,张先生,2026-12-01,,,是\r\n"


def test_gbk_as_excel_in_china_saves_it() -> None:
    data = (HEADER + BODY).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_discharge_list(data, phone=mainland).rows[0].nickname == "张先生"


def test_gb18030_beyond_gbk() -> None:
    assert only_row(HEADER + BODY.replace("张先生", "𠀀先生"), "gb18030").nickname == "𠀀先生"


def test_utf8_with_a_bom() -> None:
    row = only_row("\ufeff" + HEADER + BODY)
    assert (row.line, row.nickname) == (2, "张先生")


def test_utf16_with_either_byte_order_mark_as_excel_unicode_text() -> None:
    tabbed = (HEADER + BODY).replace(",", "\t")
    for encoding, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        reading = read_discharge_list(bom + tabbed.encode(encoding), phone=mainland)
        assert [r.nickname for r in reading.rows] == ["张先生"]


def test_what_no_encoding_reads_is_an_encoding_error() -> None:
    assert read_discharge_list(b"\xff\x80\x81", phone=mainland).file_error == "csv_encoding"
    assert read_discharge_list(b"\xff\xfe\x00\xd8", phone=mainland).file_error == "csv_encoding"


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_comma_tab_and_semicolon(delimiter: str) -> None:
    text = (HEADER + BODY).replace(",", delimiter)
    assert only_row(text).anchor == date(2026, 12, 1)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_breaks_and_blank_lines(newline: str) -> None:
    lines = ["", HEADER.strip(), "", ",,,,,", "13912345678,张先生,2026-12-01,,,是", "  ", ""]
    reading = read(newline.join(lines))
    assert [row.line for row in reading.rows] == [5]
    assert reading.errors == ()


def test_quoted_comma_quote_and_line_break() -> None:
    text = HEADER + '"13912345678","张, ""老"" 先生",2026-12-01,,,是\n'
    assert only_row(text).nickname == '张, "老" 先生'
    text = HEADER + '13912345678,"张\n先生",2026-12-01,,,是\n13812345678,李,x,,,是\n'
    reading = read(text)
    assert [(r.line, r.nickname) for r in reading.rows] == [(2, "张 先生")]
    assert [(e.line, e.key) for e in reading.errors] == [(4, "csv_date_invalid")]


def test_trailing_empty_columns_and_short_rows() -> None:
    text = "手机号,称呼,出院日期,同意,,,\n13912345678,张先生,2026-12-01,是,,,,,\n"
    assert only_row(text).consent == "verbal"
    assert errors_of("13912345678,张先生\n") == [
        (2, "anchor", "csv_date_missing"),
        (2, "consent", "csv_consent_missing"),
    ]


# -- the header -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "alias"),
    [(column, alias) for column, aliases in ALIASES.items() for alias in aliases],
)
def test_every_alias_names_its_column(column: str, alias: str) -> None:
    names = {"phone": "phone", "nickname": "nickname", "anchor": "anchor", "consent": "consent"}
    names[column] = alias
    values = {
        "phone": "13912345678",
        "nickname": "张先生",
        "anchor": "2026-12-01",
        "consent": "书面",
        "plan": "p1",
        "doctor": "d1",
    }
    order = list(names)
    text = ",".join(names[c] for c in order) + "\n" + ",".join(values[c] for c in order) + "\n"
    row = only_row(text)
    assert getattr(row, column) == {
        "phone": "+8613912345678",
        "anchor": date(2026, 12, 1),
        "consent": "written",
    }.get(column, values[column])


def test_header_names_ignore_case_width_and_spaces() -> None:
    header = " PHONE ,Nick Name,Discharge Date,ＣＯＮＳＥＮＴ,Ｐｌａｎ\n"
    text = header + "13912345678,Li,2026-12-01,yes,p\n"
    row = only_row(text)
    assert (row.nickname, row.plan, row.consent) == ("Li", "p", "verbal")


def test_columns_in_any_order_among_others() -> None:
    header = "住院号,同意,科室,称呼,电话,出院日期,诊断\n"
    text = header + "ZY001,电子,心内科,王女士,13912345678,2026/1/2,高血压\n"
    row = only_row(text)
    assert (row.phone, row.nickname, row.anchor, row.consent) == (
        "+8613912345678",
        "王女士",
        date(2026, 1, 2),
        "electronic",
    )


def test_the_preferred_alias_wins() -> None:
    text = (
        "姓名,称呼,手机号,电话,出院日期,同意\n张三,张先生,13912345678,010-1234567,2026-12-01,是\n"
    )
    row = only_row(text)
    assert (row.nickname, row.phone) == ("张先生", "+8613912345678")


def test_missing_columns_are_named() -> None:
    reading = read("手机号,医生,计划\n13912345678,d,p\n")
    assert reading == CsvReading(file_error="csv_header", file_detail="nickname,anchor,consent")
    reading = read("a,b,c\n1,2,3\n")
    assert reading.file_detail == "phone,nickname,anchor,consent"


def test_nothing_in_it() -> None:
    for text in ("", "\n\n", " , ,\r\n", "\ufeff"):
        assert read(text) == CsvReading(file_error="csv_empty")


def test_a_header_alone_has_no_rows() -> None:
    assert read(HEADER) == CsvReading()


# -- limits ---------------------------------------------------------------------------------


def test_too_big() -> None:
    text = HEADER + BODY * 3
    size = len(text.encode())
    assert read(text, max_bytes=size).file_error is None
    assert read(text, max_bytes=size - 1) == CsvReading(
        file_error="csv_too_big", file_detail=str(size - 1)
    )


def test_too_many_rows() -> None:
    text = HEADER + "".join(f"1391234567{i},张先生,2026-12-01,,,是\n\n" for i in range(3))
    assert len(read(text, max_rows=3).rows) == 3
    assert read(text, max_rows=2) == CsvReading(file_error="csv_too_many_rows", file_detail="2")


def test_a_field_too_big_for_the_csv_module_is_unreadable() -> None:
    text = HEADER + '13912345678,"' + "x" * 200_000 + '",2026-12-01,,,是\n'
    assert read(text).file_error == "csv_unreadable"


# -- the phone ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "１３９１２３４５６７８",
        "一三九一二三四五六七八",
        "壹叁玖幺贰叁肆伍陆柒捌",
        "'13912345678",
        '="13912345678"',
        "\u3000139\u00a01234\u200b5678 ",
    ],
)
def test_digits_in_every_form(written: str) -> None:
    text = "手机号\t称呼\t出院日期\t同意\n" + f"{written}\t张先生\t2026-12-01\t是\n"
    assert only_row(text).phone == "+8613912345678"


def test_the_check_sees_the_plus_and_the_digits_only() -> None:
    seen: list[str] = []

    def record(digits: str) -> str:
        seen.append(digits)
        return "+" + digits.lstrip("+")

    data = (HEADER + "+86 (139) 1234-5678,张先生,2026-12-01,,,是\n").encode()
    assert read_discharge_list(data, phone=record).rows[0].phone == "+8613912345678"
    assert seen == ["+8613912345678"]


def test_a_missing_or_refused_number() -> None:
    assert errors_of(",张先生,2026-12-01,,,是\n - ,张先生,2026-12-01,,,是\n") == [
        (2, "phone", "csv_phone_missing"),
        (3, "phone", "csv_phone_missing"),
    ]
    assert errors_of("12345,张先生,2026-12-01,,,是\n") == [(2, "phone", "csv_phone_invalid")]
    assert errors_of("1.39123E+10,张先生,2026-12-01,,,是\n") == [(2, "phone", "csv_phone_invalid")]


def test_only_a_value_error_is_a_refusal() -> None:
    def broken(digits: str) -> str:
        raise RuntimeError("a bug in the check")

    with pytest.raises(RuntimeError):
        read_discharge_list((HEADER + BODY).encode(), phone=broken)


# -- duplicates -----------------------------------------------------------------------------


def test_the_same_number_and_plan_twice_is_one_enrolment() -> None:
    body = (
        "13912345678,张先生,2026-12-01,p,,是\n"
        "139 1234 5678,张先生,2026-12-02,p,,是\n"
        "13912345678,张先生,2026-12-01,q,,是\n"
        "13912345678,张先生,2026-12-01,,,是\n"
        "13912345678,张先生,2026-12-01,,,是\n"
    )
    reading = read(HEADER + body)
    assert [(r.line, r.plan) for r in reading.rows] == [(2, "p"), (4, "q"), (5, None)]
    assert reading.errors == (
        RowError(3, "phone", "csv_duplicate"),
        RowError(6, "phone", "csv_duplicate"),
    )


def test_a_duplicate_of_a_row_with_errors_is_still_a_duplicate() -> None:
    body = "13912345678,张先生,bad,,,是\n13912345678,张先生,2026-12-01,,,是\n"
    assert errors_of(body) == [(2, "anchor", "csv_date_invalid"), (3, "phone", "csv_duplicate")]


# -- the nickname ---------------------------------------------------------------------------


def test_nickname_is_stripped_and_loses_control_characters() -> None:
    text = HEADER + '13912345678,"  张\u200b\u202e先生\x07 \t  Jr ",2026-12-01,,,是\n'
    assert only_row(text).nickname == "张先生 Jr"


def test_nickname_missing_long_or_holding_a_number() -> None:
    assert errors_of("13912345678, \u200b ,2026-12-01,,,是\n") == [
        (2, "nickname", "csv_nickname_missing")
    ]
    assert errors_of(f"13912345678,{'张' * 21},2026-12-01,,,是\n") == [
        (2, "nickname", "csv_nickname_long")
    ]
    assert read(HEADER + f"13912345678,{'张' * 20},2026-12-01,,,是\n").errors == ()
    for number in ("张13800138000", "李 一三八〇〇一三八〇〇〇", "王1234567", "赵 139 1234 5678"):
        assert errors_of(f"13912345678,{number},2026-12-01,,,是\n") == [
            (2, "nickname", "csv_nickname_number")
        ]


def test_a_nickname_with_a_few_digits_is_a_nickname() -> None:
    for nickname in ("3床张先生", "王一一", "Li 2"):
        assert only_row(HEADER + f"13912345678,{nickname},2026-12-01,,,是\n").nickname == nickname


def test_max_nickname_is_the_callers() -> None:
    data = (HEADER + "13912345678,张先生,2026-12-01,,,是\n").encode()
    reading = read_discharge_list(data, phone=mainland, max_nickname=2)
    assert [e.key for e in reading.errors] == ["csv_nickname_long"]


# -- the anchor date ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "2026-12-01",
        "2026/12/1",
        "2026.12.01",
        "2026年12月1日",
        "2026 年 12 月 01 日",
        "2026年12月1号",
        "2026年12月1",
        "20261201",
        "46357",
        "46357.4375",
        "２０２６－１２－０１",
        "2026-12-01 10:32:00",
        "2026/12/1 0:00",
        "2026-12-01T10:32",
    ],
)
def test_every_date_form(written: str) -> None:
    assert only_row(HEADER + f"13912345678,张先生,{written},,,是\n").anchor == date(2026, 12, 1)


def test_excel_serials_count_from_1899_12_30() -> None:
    assert only_row(HEADER + "13912345678,张先生,36526,,,是\n").anchor == date(2000, 1, 1)
    assert only_row(HEADER + "13912345678,张先生,99999,,,是\n").anchor == date(2173, 10, 13)


@pytest.mark.parametrize(
    "written",
    [
        "12/1/2026",
        "1/12/2026",
        "26-12-01",
        "2026-13-01",
        "2026-02-30",
        "2026-12/01",
        "20261301",
        "2026",
        "4635",
        "463570",
        "2026年12月",
        "明天",
        "2026-12-01 25",
        "+46357",
    ],
)
def test_anything_else_is_no_date(written: str) -> None:
    assert errors_of(f"13912345678,张先生,{written},,,是\n") == [(2, "anchor", "csv_date_invalid")]


def test_no_range_is_judged() -> None:
    assert only_row(HEADER + "13912345678,张先生,1900-01-01,,,是\n").anchor == date(1900, 1, 1)
    assert only_row(HEADER + "13912345678,张先生,9999-12-31,,,是\n").anchor == date(9999, 12, 31)


# -- consent --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "how"),
    [
        *[(w, "verbal") for w in ("是", "Y", "yes", "TRUE", "1", "口头", "Verbal", "同意", "１")],
        *[(w, "written") for w in ("书面", "written", "书面同意")],
        *[(w, "electronic") for w in ("电子", "Electronic", "短信")],
    ],
)
def test_consent_words(written: str, how: str) -> None:
    assert only_row(HEADER + f"13912345678,张先生,2026-12-01,,,{written}\n").consent == how


@pytest.mark.parametrize("written", ["", " ", "否", "no", "NO", "0", "N", "n", "false", "不同意"])
def test_no_consent_no_sms(written: str) -> None:
    assert errors_of(f"13912345678,张先生,2026-12-01,,,{written}\n") == [
        (2, "consent", "csv_consent_missing")
    ]


def test_an_unknown_consent_word_is_not_consent() -> None:
    assert errors_of("13912345678,张先生,2026-12-01,,,maybe\n") == [
        (2, "consent", "csv_consent_invalid")
    ]


# -- every error at once, keys only ---------------------------------------------------------


def test_every_bad_cell_of_a_row_is_reported() -> None:
    assert errors_of("123,,1/2/2026,,,否\n") == [
        (2, "phone", "csv_phone_invalid"),
        (2, "nickname", "csv_nickname_missing"),
        (2, "anchor", "csv_date_invalid"),
        (2, "consent", "csv_consent_missing"),
    ]


def test_the_keys_are_listed_once() -> None:
    assert len(set(ERROR_KEYS)) == len(ERROR_KEYS) == len(FILE_ERROR_KEYS) + len(ROW_ERROR_KEYS)
    assert all(key.startswith("csv_") for key in ERROR_KEYS)
    assert set(CONSENT.values()) == {"verbal", "written", "electronic"}


# -- properties -----------------------------------------------------------------------------


@given(st.binary(max_size=400))
def test_any_bytes_read_without_raising(data: bytes) -> None:
    reading = read_discharge_list(data, phone=mainland, max_rows=5, max_bytes=300)
    assert reading.file_error is None or reading.file_error in FILE_ERROR_KEYS
    assert all(e.key in ROW_ERROR_KEYS for e in reading.errors)


TEXT_CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@given(st.lists(st.lists(TEXT_CELL, max_size=7), max_size=6), st.sampled_from([",", "\t", ";"]))
def test_any_table_reads_without_raising(rows: list[list[str]], delimiter: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([HEADER.strip().split(","), *rows])
    reading = read(out.getvalue())
    assert reading.file_error is None
    assert all(e.key in ROW_ERROR_KEYS and e.column in ALIASES for e in reading.errors)


NICKNAME = (
    st.text(alphabet=st.sampled_from("张王李赵先生女士小姐老阿 ·AbcXyz"), min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)
ROW = st.builds(
    CareRow,
    line=st.just(0),
    phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True).map(lambda d: "+86" + d),
    nickname=NICKNAME.map(lambda n: " ".join(n.split())),
    anchor=st.dates(min_value=date(1928, 1, 1), max_value=date(2100, 12, 31)),
    plan=st.one_of(st.none(), st.sampled_from(["术后随访", "discharge-30", "p,1"])),
    doctor=st.one_of(st.none(), st.sampled_from(["dr-wang", "li.na"])),
    consent=st.sampled_from(["verbal", "written", "electronic"]),
)
DATE_FORMS = ("{:%Y-%m-%d}", "{:%Y/%m/%d}", "{:%Y.%m.%d}", "{:%Y年%m月%d日}", "{:%Y%m%d}", "serial")


@given(
    st.lists(ROW, max_size=12, unique_by=lambda r: (r.phone, r.plan)),
    st.sampled_from([",", "\t", ";"]),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    st.sampled_from(DATE_FORMS),
)
def test_rows_written_by_csv_writer_read_back_equal(
    rows: list[CareRow], delimiter: str, encoding: str, date_form: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["phone", "称呼", "出院日期", "随访计划", "主治医生", "知情同意"])
    for row in rows:
        day = (
            str((row.anchor - date(1899, 12, 30)).days)
            if date_form == "serial"
            else date_form.format(row.anchor)
        )
        writer.writerow(
            [row.phone[3:], row.nickname, day, row.plan or "", row.doctor or "", row.consent]
        )
    reading = read(out.getvalue(), encoding)
    expected = [
        CareRow(
            line=n + 2,
            phone=r.phone,
            nickname=r.nickname,
            anchor=r.anchor,
            plan=r.plan,
            doctor=r.doctor,
            consent=r.consent,
        )
        for n, r in enumerate(rows)
    ]
    assert reading == CsvReading(rows=tuple(expected))
