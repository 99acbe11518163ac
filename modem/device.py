"""What a modem is and does, in AT commands: initialise, report its health, send an SMS.

Built on :class:`AtSession`; knows nothing of questions, experts or SQL. Health is data, read
by ``await modem.probe()`` (never a property that talks to the device). The receive path and the
supervisor live in their own modules.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import asdict, dataclass

from smscat.modem import pdu, storages
from smscat.modem.errors import CommandError
from smscat.modem.quirks import Quirks, lookup, override
from smscat.modem.session import AtSession

log = logging.getLogger(__name__)

REGISTRATION = {
    0: "not-registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
}
_CSQ = re.compile(r"\+CSQ:\s*(\d+),\s*(\d+)")
_REG = re.compile(r"\+C(?:E)?REG:\s*\d+,\s*(\d+)")
_COPS = re.compile(r'\+COPS:\s*\d+(?:,\s*\d+,\s*"([^"]*)")?')
_CMGS = re.compile(r"\+CMGS:\s*(\d+)")


_REG_URC = re.compile(r"\+C(?:E|5G)?REG:\s*(\d+)\s*(?:,|$)")


def registration_of(line: str) -> str | None:
    """The registration a +CREG/+CEREG/+C5GREG URC (``+CREG: <stat>[,…]``) announces, if any."""
    match = _REG_URC.match(line)
    return REGISTRATION.get(int(match[1]), "unknown") if match else None


def csq_to_dbm(rssi: int) -> int | None:
    """27.007 +CSQ <rssi> → dBm (0: -113 or less, 31: -51 or more, 99: unknown)."""
    if rssi == 99 or not 0 <= rssi <= 31:
        return None
    return -113 + 2 * rssi


@dataclass(frozen=True, slots=True)
class Health:
    manufacturer: str
    model: str
    revision: str
    imei: str
    sim: str
    csq: int | None
    signal_dbm: int | None
    registration: str
    roaming: bool
    operator: str | None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SentPart:
    seq: int
    total: int
    mr: int


class Modem:
    """A modem behind an open session.

    Its :class:`Quirks` come from the model table once the modem has said what it is (in
    :meth:`initialise`), with the operator's ``overrides`` from config on top.
    """

    def __init__(
        self,
        session: AtSession,
        overrides: dict[str, object] | None = None,
        *,
        smsc: str | None = None,
    ) -> None:
        self.session = session
        self.overrides = dict(overrides or {})
        self.smsc = smsc  # the SMS centre to write at start (config), else the SIM's own
        self.quirks: Quirks = override(Quirks(), self.overrides)
        self._identity: tuple[str, str] | None = None  # (+CGMI, +CGMM) once read
        self._link_kept = False  # AT+CMMS=2 is in force
        self.storages: tuple[str, ...] | None = None  # the AT+CPMS initialise set, if any

    async def initialise(self, *, reports: bool = False) -> None:
        """Numeric errors, PDU mode, SMS storages set, new SMS announced (+CMTI), reports as +CDS.

        (Echo is the session's business: off, and on only to resynchronise.)
        """
        await self.session.command("AT+CMEE=1")
        manufacturer, model = await self._identify()
        self.quirks = override(lookup(manufacturer, model), self.overrides)
        if self.quirks.periodic_urcs_off_command:
            with contextlib.suppress(CommandError):  # else the noise stays; the parser copes
                await self.session.command(self.quirks.periodic_urcs_off_command)
        if self.quirks.urc_port_command:
            try:  # else +CMTI may go to another port; the receiver's sweeps still find the SMS
                await self.session.command(self.quirks.urc_port_command)
            except CommandError as exc:  # (the text is the command and its result: no PII)
                log.warning("the modem refused to send URCs to this port: %s", exc)
        if self.quirks.sms_ready_lines:
            await self._wait_sms_ready()
        await self.session.command("AT+CMGF=0")
        if self.smsc:
            await self._set_smsc(self.smsc)
        await self._set_storages()  # before +CNMI: the first +CMTI names the memory we chose
        await self.session.command(f"AT+CNMI=2,1,0,{self._report_mode(reports)},0")
        for command in ("AT+CREG=1", "AT+CEREG=1"):  # registration changes as URCs
            with contextlib.suppress(CommandError):  # (a 2G module has no +CEREG)
                await self.session.command(command)
        self._link_kept = False
        if self.quirks.cmms_supported:
            try:  # once for the session, instead of AT+CMMS=1 before every long message
                await self.session.command("AT+CMMS=2")
                self._link_kept = True
            except CommandError:
                pass

    async def _wait_sms_ready(self) -> None:
        """A module that refuses SMS commands until it prints a ready line: wait for that line.

        ``AT+CPMS?`` asks whether SMS works now (a module started long ago answers at once);
        refused, the driver waits for one of the ready lines (heard from the mark on, so one
        that came while ``AT+CPMS?`` was answered counts) for at most the quirk's timeout. A
        timeout is logged and the start goes on: AT+CMGF then says whether SMS works.
        """
        mark = self.session.heard_mark()
        try:
            await self.session.command("AT+CPMS?")
            return
        except CommandError:
            pass
        ready = await self.session.wait_for_line(
            self.quirks.sms_ready_lines, after=mark, timeout=self.quirks.sms_ready_timeout
        )
        if not ready:
            log.warning(
                "the modem refused SMS commands and printed no ready line in %d s",
                self.quirks.sms_ready_timeout,
            )

    async def _set_smsc(self, smsc: str) -> None:
        """AT+CSCA (27.005 §3.3.1) with the number as GSM characters, type 145 if it has a "+".

        ``AT+CSCS="GSM"`` first: in UCS2 (another program's choice) the number would have to
        be hex. A refusal is logged and the start goes on: the sends then say what is wrong.
        """
        kind = 145 if smsc.startswith("+") else 129
        try:
            with contextlib.suppress(CommandError):
                await self.session.command('AT+CSCS="GSM"')
            await self.session.command(f'AT+CSCA="{smsc}",{kind}')
        except CommandError as exc:  # (the SMS centre is the operator's, not a person's)
            log.warning("the modem refused the SMS centre from config: %s", exc)

    async def _set_storages(self) -> None:
        """All three +CPMS memories: whatever another program left is no longer in force.

        The preference (a quirk) is fitted to what ``AT+CPMS=?`` lists; a refusal falls back to
        the SIM, and if that is refused too the storages stay as they are (the receiver's sweep
        reads every memory anyway). Refusals are logged at warning; the start goes on.
        """
        try:
            offered = storages.parse_offered(await self.session.command("AT+CPMS=?"))
        except CommandError:
            offered = None  # (not listed: the modem's answer to the setting itself decides)
        self.storages = None
        for choice in storages.attempts(self.quirks.preferred_storages, offered):
            try:
                await self.session.command(storages.set_command(choice))
            except CommandError as exc:  # (the text is the command and its result: no PII)
                log.warning("the modem refused SMS storages %s: %s", ",".join(choice), exc)
                continue
            self.storages = choice
            return
        log.warning("no SMS storage could be set; new SMS stay where the modem puts them")

    def _report_mode(self, reports: bool) -> int:
        """+CNMI <ds>: 1 (+CDS with the report) where the modem takes it, else 2 (+CDSI)."""
        if not reports:
            return 0
        usable = set(self.quirks.cnmi_ds_modes)
        if self.quirks.cdsi_location_unreliable:
            usable.discard(2)
        return 1 if 1 in usable else 2 if 2 in usable else 0

    async def probe(self) -> Health:
        s = self.session
        manufacturer, model = await self._identify()
        revision = (await self._text("AT+CGMR")).removeprefix("+CGMR:").strip()
        imei = await self._text("AT+CGSN")
        sim = (await self._text("AT+CPIN?")).removeprefix("+CPIN:").strip()
        csq = None
        if match := _CSQ.search(" ".join(await s.command("AT+CSQ"))):
            csq = int(match[1])
        stat = await self._registration()
        operator = None
        if match := _COPS.search(" ".join(await s.command("AT+COPS?"))):
            operator = match[1]
        dbm = csq_to_dbm(csq) if csq is not None else None
        return Health(
            manufacturer,
            model,
            revision,
            imei,
            sim,
            None if csq == 99 else csq,
            dbm,
            REGISTRATION.get(stat, "unknown"),
            stat == 5,
            operator,
        )

    async def _identify(self) -> tuple[str, str]:
        """+CGMI and +CGMM, read once per session (they do not change while it is open)."""
        if self._identity is None:
            self._identity = (await self._text("AT+CGMI"), await self._text("AT+CGMM"))
        return self._identity

    async def _text(self, command: str) -> str:
        try:
            return " ".join(await self.session.command(command)).strip()
        except CommandError:
            return ""

    async def _registration(self) -> int:
        best = 0
        for command in ("AT+CREG?", "AT+CEREG?"):
            try:
                lines = await self.session.command(command)
            except CommandError:
                continue  # a 2G module has no +CEREG
            if match := _REG.search(" ".join(lines)):
                stat = int(match[1])
                if stat in (1, 5):
                    return stat
                best = best or stat
        return best

    async def send(self, to: str, text: str, *, ref: int, report: bool = False) -> list[SentPart]:
        """Submit ``text`` in the fewest parts; returns each part's TP-MR."""
        parts = pdu.plan_submit(to, text, ref=ref, report=report)
        await self.keep_link(len(parts))
        return [await self.submit(part) for part in parts]

    async def keep_link(self, parts: int) -> None:
        """Before a multipart send: keep the radio link up between parts (AT+CMMS=1).

        Nothing to do where initialise set AT+CMMS=2 (the link is kept after every send).
        """
        if parts > 1 and self.quirks.cmms_supported and not self._link_kept:
            await self.session.command("AT+CMMS=1")

    async def submit(self, part: pdu.SubmitPart) -> SentPart:
        """Submit one planned part (AT+CMGS); its TP-MR comes back in the SentPart."""
        lines = await self.session.submit(f"AT+CMGS={part.tpdu_length}", part.pdu_hex)
        match = _CMGS.search(" ".join(lines))
        if match is None:
            raise CommandError("AT+CMGS", "no +CMGS: <mr> in the answer")
        return SentPart(part.seq, part.total, int(match[1]))
