"""Text mode (+CMGF=1) as 27.005 §3-4 describes it: the TE character sets and the header lines.

Pure functions over strings and bytes. The ``+CSCS`` character set decides how strings cross
the line: ``IRA`` (7-bit ASCII), ``GSM`` (the default alphabet's codes as bytes), ``HEX`` (those
codes as hex pairs) and ``UCS2`` (UTF-16 code units as 4 hex digits). User data in 8-bit or UCS2,
or with a user data header, always travels as hex of its octets whatever +CSCS says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from smscat.hwsim import gsm7, pdu

STAT_NAMES = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT")
MAX_SEPTETS = 160
MAX_OCTETS = 140
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


class TextModeError(ValueError):
    """Text-mode input that the character set or the data coding scheme cannot carry."""


def to_te(text: str, cscs: str) -> bytes:
    """``text`` as the TE character set ``cscs`` writes it on the line."""
    if cscs == "UCS2":
        return text.encode("utf-16-be").hex().upper().encode()
    if cscs == "IRA":
        return text.encode("ascii", "replace")
    codes = gsm7.septets(text)
    if codes is None:  # not in the GSM alphabet: each such character shows as '?'
        codes = [c for ch in text for c in (gsm7.septets(ch) or gsm7.septets("?") or [])]
    raw = bytes(codes)
    return raw.hex().upper().encode() if cscs == "HEX" else raw


def from_te(data: bytes, cscs: str) -> str:
    """The reverse of :func:`to_te`; raises TextModeError on input the set cannot mean."""
    try:
        if cscs == "UCS2":
            return _hex(data).decode("utf-16-be")
        if cscs == "IRA":
            text = data.decode("ascii")
            if any(ord(c) < 0x20 and c not in "\r\n" for c in text):
                raise TextModeError("control character in IRA text")
            return text
        codes = _hex(data) if cscs == "HEX" else data
        if any(c > 0x7F for c in codes):
            raise TextModeError("GSM alphabet codes are 7-bit")
        return gsm7.text_from_septets(list(codes))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TextModeError(f"not valid {cscs} text") from exc


def _hex(data: bytes) -> bytes:
    text = data.decode("ascii")
    if not _HEX.fullmatch(text):
        raise TextModeError("expected pairs of hex digits")
    return bytes.fromhex(text)


def submit_text(body: bytes, cscs: str, dcs: int) -> str:
    """The message a text-mode AT+CMGS body carries, checked to fit one SMS."""
    kind = pdu.alphabet(dcs)
    if kind == "gsm7":
        text = from_te(body, cscs)
        codes = gsm7.septets(text)
        if codes is None:
            raise TextModeError("text outside the GSM alphabet needs +CSMP with DCS 8")
        if len(codes) > MAX_SEPTETS:
            raise TextModeError("longer than one SMS")
        return text
    octets = _hex(body)
    if len(octets) > MAX_OCTETS:
        raise TextModeError("longer than one SMS")
    if kind == "ucs2":
        try:
            return octets.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise TextModeError("not UTF-16") from exc
    return octets.decode("latin-1")


def timestamp(when: datetime) -> str:
    """27.005 ``<scts>``: ``yy/MM/dd,hh:mm:ss±zz`` with zz in quarter hours."""
    offset = when.utcoffset() or timedelta(0)
    quarters = int(offset.total_seconds()) // 900
    return when.strftime("%y/%m/%d,%H:%M:%S") + f"{'-' if quarters < 0 else '+'}{abs(quarters):02d}"


def address_type(number: str) -> int:
    if number.startswith("+"):
        return 145
    return 129 if number.isdigit() else 208


@dataclass(frozen=True)
class TextDeliver:
    """An SMS-DELIVER as text mode shows it: address and data already in the TE character set."""

    oa: str
    scts: str
    tooa: int
    fo: int
    pid: int
    dcs: int
    length: int
    data: bytes

    def header(self, prefix: str, stat: str | None, smsc: str, detailed: bool) -> bytes:
        """``+CMGR: "REC READ","<oa>",,"<scts>"[,<tooa>,<fo>,<pid>,<dcs>,"<sca>",<tosca>,<len>]``.

        The same shape serves +CMT (``stat`` None) and, without the SMSC fields, +CMGL.
        """
        fields = [f'"{stat}"'] if stat is not None else []
        fields += [f'"{self.oa}"', "", f'"{self.scts}"']
        if detailed and prefix == "+CMGL":
            fields += [str(self.tooa), str(self.length)]
        elif detailed:
            fields += [str(self.tooa), str(self.fo), str(self.pid), str(self.dcs)]
            fields += [f'"{smsc}"', str(address_type(smsc)), str(self.length)]
        return f"{prefix}: {','.join(fields)}".encode("latin-1")


def text_deliver(tpdu: bytes, cscs: str) -> TextDeliver:
    """Read an SMS-DELIVER TPDU for a text-mode listing."""
    deliver = pdu.decode_deliver(tpdu)
    first, pid, dcs, ud = pdu.deliver_fields(tpdu)
    if pdu.alphabet(dcs) == "gsm7" and not first & 0x40:
        data = to_te(deliver.text, cscs)
        length = len(gsm7.septets(deliver.text) or ())
    else:
        data = ud.hex().upper().encode()
        length = len(ud)
    return TextDeliver(
        oa=to_te(deliver.oa, cscs).decode("latin-1"),
        scts=timestamp(deliver.scts),
        tooa=address_type(deliver.oa),
        fo=first,
        pid=pid,
        dcs=dcs,
        length=length,
        data=data,
    )


def status_report_line(prefix: str, tpdu: bytes, cscs: str, stat: str | None = None) -> bytes:
    """``+CDS: <fo>,<mr>,"<ra>",<tora>,"<scts>","<dt>",<st>`` (with ``"<stat>",`` for +CMGR)."""
    report = pdu.decode_status_report(tpdu)
    ra = to_te(report.ra, cscs).decode("latin-1")
    fields = [f'"{stat}"'] if stat is not None else []
    fields += [str(tpdu[0]), str(report.mr), f'"{ra}"', str(address_type(report.ra))]
    fields += [f'"{timestamp(report.scts)}"', f'"{timestamp(report.dt)}"', str(report.status)]
    return f"{prefix}: {','.join(fields)}".encode("latin-1")
