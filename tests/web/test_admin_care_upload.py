"""The 随访 discharge list's upload over real HTTP, on a running daemon: a GBK list with good and
bad lines is previewed with each line's words (never a whole number) and nothing kept; the
confirm enrols exactly the lines the preview called new, says which came out otherwise since
(a STOP, an enrolment in between) and is audited with its counts; a file without the columns,
too big a file or body, no file and a confirm that carries no list are refused in words, never
a 500; the template downloads with a BOM and reads back through the reader. In a real browser
the form, the preview and the result fit a phone (375 px).

The patients and their numbers are made up.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from markupsafe import escape
from playwright.async_api import Browser as Chromium
from playwright.async_api import expect

from smscat.relay.core import care_csv
from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.services.care import EnrolRequest
from smscat.web import admin_care_upload as upload
from smscat.web.texts import render
from tests.support.admin import ADMINS, CSRF, PASSWORD, Browser
from tests.support.browser import chromium
from tests.support.daemon import TIMEOUT, settings
from tests.support.relay import Clock, received
from tests.web.test_admin_phone import PHONE, fits

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ALREADY = "+8613700002222"  # enrolled before the upload
STOPPED = "+8613700009999"  # sent TD before the upload
# A discharge list as an HIS exports it (GBK): a line per case the page must put in words
LIST = [
    "手机号,称呼,出院日期,随访计划,主治医生,知情同意,诊断",
    "137 0000 1111,王女士,2026-11-22,,,口头,术后",  # 2 new
    "13700002222,李先生,2026年11月22日,,,书面,",  # 3 enrolled already
    ",赵女士,2026-11-22,,,是,",  # 4 no number
    "12345,钱先生,2026-11-22,,,是,",  # 5 not a mobile
    "13700001111,王女士,2026-11-22,,,是,",  # 6 the same as line 2
    "13700004444,孙女士,2026/13/40,,,是,",  # 7 no such date
    "13700005555,周先生,2026-11-22,,,否,",  # 8 no consent
    "13700006666,吴女士,2026-11-22,nosuch,,是,",  # 9 no such plan (the relay's refusal)
    "13700007777,郑先生,2026-11-22,,nobody,是,",  # 10 no such doctor (the relay's)
    "13700009999,冯女士,2026-11-22,,,是,",  # 11 sent STOP (the relay's)
    "13700003333,陈先生,2026-11-21,discharge,zhang,电子,",  # 12 new
]
NEW_LINES = {2: "+8613700001111", 12: "+8613700003333"}
WORDS = {  # line → the words the page shows for it
    3: ("admin.care_upload.outcome.already",),
    4: ("admin.care_upload.error.csv_phone_missing",),
    5: ("admin.care_upload.error.csv_phone_invalid",),
    6: ("admin.care_upload.error.csv_duplicate",),
    7: ("admin.care_upload.error.csv_date_invalid",),
    8: ("admin.care_upload.error.csv_consent_missing",),
    9: ("admin.care_upload.error.plan_unknown",),
    10: ("admin.care_upload.error.doctor_unknown",),
    11: ("admin.error.phone_stopped",),
}
DATA = re.compile(r'name="data" value="([^"]*)"')
NEW = re.compile(r'name="new" value="([^"]*)"')


def gbk_list(lines: list[str] = LIST) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


@dataclass
class Ward:
    """The daemon with the test's clock and an admin's browser, logged in."""

    running: Daemon
    admin: Browser
    refs: int = 0

    async def stop(self, sender: str) -> None:
        """``sender``, enrolled (a patient the relay knows), texts TD (unsubscribe) to the
        hospital's SIM, routed now: the enrolment ends, the number is never enrolled again."""
        await self.enrol(sender)
        self.refs += 1
        inbound = self.running.relay.inbound
        for part in received(sender, "TD", MONDAY, 100 + self.refs):
            await inbound.store_part("sim1", part)
        await inbound.process_inbound()

    async def enrol(self, phone: str) -> None:
        request = EnrolRequest(
            phone=phone, nickname="李先生", anchor=date(2026, 11, 22), plan="discharge",
            consent="verbal",
        )  # fmt: skip
        await self.running.relay.care.enrol(request, "admin:root", "admin")

    async def enrolled(self) -> list[str]:
        rows = await self.running.relay.db.fetchall(
            "SELECT p.e164 FROM care_enrolments c JOIN phones p ON p.id = c.phone_id ORDER BY c.id"
        )
        return [str(r[0]) for r in rows]

    async def csrf(self, path: str = upload.PATH) -> tuple[str, str]:
        status, headers, body, _ = await self.admin.get(path)
        assert status == 200, body
        assert headers["Cache-Control"] == "no-store"
        found = CSRF.search(body)
        assert found
        return body, found.group(1)

    async def send(
        self,
        data: bytes | None,
        *,
        plan: str = "discharge",
        lang: str = "zh-CN",
        filename: str = "出院名单.csv",
    ) -> tuple[int, str]:
        """The upload form posted (multipart), as a browser sends it."""
        _, csrf = await self.csrf()
        form = aiohttp.FormData()
        form.add_field("csrf", csrf)
        form.add_field("plan", plan)
        if data is not None:
            form.add_field("file", io.BytesIO(data), filename=filename, content_type="text/csv")
        async with self.admin.http.post(
            f"{self.admin.base}{upload.PATH}?lang={lang}", data=form, allow_redirects=False
        ) as resp:
            return resp.status, await resp.text()

    async def confirm(self, preview: str, lang: str = "zh-CN", **change: str) -> tuple[int, str]:
        found, new, csrf = DATA.search(preview), NEW.search(preview), CSRF.search(preview)
        assert found, preview
        assert new, preview
        assert csrf, preview
        form = {"csrf": csrf.group(1), "plan": "discharge", "data": found.group(1)}
        form["new"] = new.group(1)
        status, _, body, _ = await self.admin.post(
            f"{upload.CONFIRM}?lang={lang}", {**form, **change}
        )
        return status, body


@pytest.fixture
async def ward(tmp_path: Path) -> AsyncIterator[Ward]:
    config = settings(tmp_path, admins=ADMINS)
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        running_daemon(config, clock=Clock(MONDAY)) as running,
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http,
    ):
        admin = Browser(http, running.url)
        assert (await admin.login())[0] == 303
        yield Ward(running, admin)


def words(key: str, lang: str = "zh-CN", **params: Any) -> str:
    return str(escape(render(key, lang, **params)))  # as the templates write it


def line_of(body: str, line: int) -> str:
    start = body.index(f'data-line="{line}"')
    return body[start : body.index("</tr>", start)]


def assert_no_number(body: str) -> None:
    """No patient's number in the page, in any form the list gave it (the last four only)."""
    for number in ("13700001111", "137 0000 1111", "13700002222", "13700003333", "1370000"):
        assert number not in body


# -- the form and the template ---------------------------------------------------------------


async def test_the_form_names_the_columns_and_defaults_the_plan(ward: Ward) -> None:
    body, _ = await ward.csrf(f"{upload.PATH}?lang=en")
    assert 'enctype="multipart/form-data"' in body
    assert 'accept=".csv,text/csv"' in body
    assert '<option value="discharge" selected>' in body  # config's plan: the default
    labels = [render(f"admin.care_upload.column.{c}", "en") for c in ("phone", "consent")]
    assert all(label in body for label in labels)
    assert f'href="{upload.TEMPLATE}?lang=en"' in body


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_the_template_has_a_bom_and_reads_back(ward: Ward, lang: str) -> None:
    async with ward.admin.http.get(f"{ward.admin.base}{upload.TEMPLATE}?lang={lang}") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        data = await resp.read()
    assert data.startswith(b"\xef\xbb\xbf")
    reading = ward.running.relay.care.read_csv(data)
    assert reading.file_error is None
    assert reading.errors == ()
    (row,) = reading.rows
    assert (row.phone, row.anchor, row.plan, row.doctor) == (
        "+8613800000000", date(2026, 12, 1), None, None,
    )  # fmt: skip
    status, body = await ward.send(data, lang=lang)  # as downloaded, it previews
    assert status == 200, body
    assert words("admin.care_upload.counts", lang, lines=1, new=1, already=0, refused=0) in body


def test_the_confirm_carries_a_whole_file_of_the_readers_limit() -> None:
    biggest = len(base64.urlsafe_b64encode(b"x" * care_csv.MAX_BYTES))
    assert upload.BODY_LIMITS[upload.CONFIRM] >= biggest


# -- preview, then confirm -------------------------------------------------------------------


async def test_a_gbk_list_is_previewed_line_by_line_and_nothing_is_kept(ward: Ward) -> None:
    await ward.enrol(ALREADY)
    await ward.stop(STOPPED)
    audited = await ward.running.relay.db.fetchall("SELECT id FROM audit_log")
    status, body = await ward.send(gbk_list())
    assert status == 200, body
    assert words("admin.care_upload.counts", lines=11, new=2, already=1, refused=8) in body
    for line in NEW_LINES:
        assert words("admin.care_upload.outcome.new") in line_of(body, line)
    row = line_of(body, 2)
    assert "•••• 1111" in row
    assert "王女士" in row
    assert "2026-11-22" in row
    assert "出院随访" in row
    assert words("admin.care.consent.verbal") in row
    assert words("admin.care.consent.electronic") in line_of(body, 12)
    for line, keys in WORDS.items():
        for key in keys:
            assert words(key) in line_of(body, line), (line, key)
    assert "术后" not in body  # a column the reader does not use stays out
    assert_no_number(body)
    assert await ward.enrolled() == [ALREADY, STOPPED]
    assert await ward.running.relay.db.fetchall("SELECT id FROM audit_log") == audited
    assert words("admin.care_upload.confirm_button", count=2) in body


async def test_the_confirm_enrols_exactly_the_new_lines_and_audits_the_upload(ward: Ward) -> None:
    await ward.enrol(ALREADY)
    await ward.stop(STOPPED)
    _, preview = await ward.send(gbk_list())
    status, body = await ward.confirm(preview)
    assert status == 200, body
    assert words("admin.care_upload.result_heading", count=2) in body
    assert words("admin.care_upload.result_counts", enrolled=2, already=1, skipped=8) in body
    assert words("admin.care_upload.unreadable_lines", count=5) in body
    for line, key in ((9, "plan_unknown"), (10, "doctor_unknown")):
        assert words(f"admin.care_upload.error.{key}") in line_of(body, line)
    assert words("admin.error.phone_stopped") in line_of(body, 11)
    assert 'class="flag"' not in body  # all as the preview said
    assert 'data-line="2"' not in body  # an enrolled line as previewed: counted, not listed
    assert_no_number(body)
    assert await ward.enrolled() == [ALREADY, STOPPED, *NEW_LINES.values()]
    rows = await ward.running.relay.db.fetchall(
        "SELECT c.source, c.consent_how, c.doctor_id, c.anchor FROM care_enrolments c"
        " JOIN phones p ON p.id = c.phone_id WHERE p.e164 = ?",
        (NEW_LINES[12],),
    )
    assert [tuple(r) for r in rows] == [("csv", "electronic", "zhang", "2026-11-21")]
    audit = await ward.running.relay.db.fetchall(
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'care.upload'"
    )
    assert [tuple(r) for r in audit] == [
        (
            "admin:root", "discharge",
            '{"enrolled": 2, "already": 1, "refused": 3, "unreadable": 5}',
        )
    ]  # fmt: skip
    # confirming again (a reload) enrols nobody twice
    status, body = await ward.confirm(preview)
    assert status == 200, body
    assert words("admin.care_upload.result_heading", count=0) in body
    assert len(await ward.enrolled()) == 4


async def test_the_result_says_which_lines_changed_since_the_preview(ward: Ward) -> None:
    _, preview = await ward.send(gbk_list(LIST[:3] + LIST[-1:]), lang="en")
    assert words("admin.care_upload.counts", "en", lines=3, new=3, already=0, refused=0) in preview
    await ward.enrol(ALREADY)  # line 3: enrolled by someone else meanwhile
    await ward.stop(NEW_LINES[12])  # line 4 (13700003333): sent TD meanwhile
    status, body = await ward.confirm(preview, lang="en")
    assert status == 200, body
    assert words("admin.care_upload.result_heading", "en", count=1) in body
    changed = f'<span class="flag">{words("admin.care_upload.changed", "en")}</span>'
    assert 'data-line="2"' not in body  # line 2 went as previewed
    assert changed in line_of(body, 3)
    assert words("admin.care_upload.outcome.already", "en") in line_of(body, 3)
    assert changed in line_of(body, 4)
    assert words("admin.error.phone_stopped", "en") in line_of(body, 4)
    assert await ward.enrolled() == [ALREADY, NEW_LINES[12], NEW_LINES[2]]


# -- refusals in words ------------------------------------------------------------------------


async def test_a_file_without_the_columns_is_refused_in_words(ward: Ward) -> None:
    status, body = await ward.send("姓名,电话\n王女士,13700001111\n".encode())
    assert status == 422, body
    columns = "、".join(render(f"admin.care_upload.column.{c}") for c in ("anchor", "consent"))
    assert words("admin.care_upload.error.csv_header", columns=columns) in body
    assert 'name="file"' in body  # the form again
    assert_no_number(body)


@pytest.mark.parametrize(
    ("data", "key"),
    [(b"", "csv_empty"), (b"\xff\x00\xfe\x80" * 4, "csv_encoding")],
)
async def test_an_unreadable_file_is_refused_in_words(ward: Ward, data: bytes, key: str) -> None:
    status, body = await ward.send(data, lang="en")
    assert status == 422, body
    assert words(f"admin.care_upload.error.{key}", "en") in body


async def test_too_big_a_file_is_a_413_in_words(ward: Ward) -> None:
    data = gbk_list() + b" " * (upload.MAX_FILE + 1)  # the reader's limit, the body's under it
    status, body = await ward.send(data)
    assert status == 413, body
    assert words("admin.care_upload.error.csv_too_big", limit=upload.MAX_FILE) in body
    over = b"," * upload.BODY_LIMITS[upload.PATH]  # the body's limit passed too
    status, body = await ward.send(over, lang="en")
    assert status == 413, body
    assert words("admin.care_upload.error.csv_too_big", "en", limit=upload.MAX_FILE) in body
    assert await ward.enrolled() == []
    await ward.csrf()  # the daemon serves on, the admin still logged in


async def test_no_file_is_a_400_in_words(ward: Ward) -> None:
    status, body = await ward.send(None)
    assert status == 400, body
    assert words("admin.care_upload.no_file") in body
    status, body = await ward.send(b"", filename="")  # a browser's part with nothing chosen
    assert status == 400, body
    assert words("admin.care_upload.no_file") in body


async def test_an_unknown_plan_is_refused_before_reading(ward: Ward) -> None:
    status, body = await ward.send(gbk_list(), plan="nosuch")
    assert status == 422, body
    assert words("admin.error.plan_unknown") in body


@pytest.mark.parametrize(
    "data", ["", "not base64!", base64.urlsafe_b64encode(b"a,b\n1,2").decode()]
)
async def test_a_confirm_without_a_list_enrols_nobody(ward: Ward, data: str) -> None:
    _, csrf = await ward.csrf()
    form = {"csrf": csrf, "plan": "discharge", "data": data, "new": "2"}
    status, _, body, _ = await ward.admin.post(upload.CONFIRM, form)
    assert status in (400, 422), body
    assert "admin.care_upload" not in body  # words, not keys
    assert await ward.enrolled() == []
    actions = await ward.running.relay.db.fetchall(
        "SELECT id FROM audit_log WHERE action = 'care.upload'"
    )
    assert actions == []


# -- on a phone -------------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Chromium]:
    async with chromium() as launched:
        yield launched


@pytest.mark.browser
async def test_the_upload_fits_a_phone(ward: Ward, browser: Chromium) -> None:
    await ward.enrol(ALREADY)
    await ward.stop(STOPPED)
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    base = ward.running.url
    await page.goto(base + "/admin")
    await page.get_by_label(render("admin.username")).fill("root")
    await page.get_by_label(render("admin.password")).fill(PASSWORD)
    await page.get_by_role("button", name=render("admin.login_button")).click()
    await expect(page.get_by_text(render("admin.signed_in_as", username="root"))).to_be_visible()
    for lang in ("en", "zh-CN"):  # English words are longer; the Chinese list is enrolled
        await page.goto(f"{base}{upload.PATH}?lang={lang}")
        await fits(page, f"form {lang}")
        await page.get_by_label(render("admin.care_upload.file", lang)).set_input_files(
            {"name": "出院名单.csv", "mimeType": "text/csv", "buffer": gbk_list()}
        )
        await page.get_by_role(
            "button", name=render("admin.care_upload.preview_button", lang)
        ).click()
        heading = render("admin.care_upload.preview_heading", lang)
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        await fits(page, f"preview {lang}")
    button = render("admin.care_upload.confirm_button", count=2)
    await page.get_by_role("button", name=button).click()
    heading = render("admin.care_upload.result_heading", count=2)
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    await fits(page, "result")
    assert len(await ward.enrolled()) == 4
