"""The command line's words (``smscat modem scan``, ``smscat token``), zh-CN and en, in one place.

The SMS wording lives in ``relay/core/texts.py`` and the web's in ``web/texts.py``; these are
what an operator reads in a terminal. Placeholders are ``str.format`` fields; no phone number
of a patient or an expert is ever one of them.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("zh-CN", "en")

_EN: Final[dict[str, str]] = {
    "scan.none": "No serial ports found (looked in {dev}/serial/by-id, ttyUSB*, ttyACM*).",
    "scan.port": "{port}",
    "scan.device": "  device: {device}",
    "scan.usb": "  USB: {usb}",
    "scan.held": "  held by {holders}",
    "scan.modem": "  {manufacturer} {model}, firmware {revision}, IMEI {imei}",
    "scan.sim": "  SIM: {sim}; registration: {registration}; operator: {operator}",
    "scan.signal": "  signal: {signal}",
    "scan.smsc": "  SMS centre: {smsc}",
    "scan.bearer": "  SMS bearer (+CGSMS): {bearer}",
    "scan.ims": "  IMS (+CIREG): {ims}",
    "scan.urc_port": "  URCs: {urc}",
    "scan.interfaces": "  interfaces of this device that answer AT: {answering}; silent: {silent}",
    "scan.not_told": "not told",
    "scan.none_value": "none",
    "scan.unknown": "unknown",
    "scan.ims.registered": "registered",
    "scan.ims.not_registered": "not registered",
    "scan.urc.same": "on the interface that answers AT (the module does not say otherwise)",
    "scan.urc.named": "the module sends them to {where}",
    "scan.urc.moved": (
        "the module sends them to {where}; smscat moves them to the USB AT port at start"
        ' (AT+QURCCFG="urcport","usbat")'
    ),
    "scan.fix": "  ! {text}",
    "scan.snippet": "Paste into config.yaml:",
    "scan.no_snippet": "No modem answered; nothing to paste into config.yaml yet.",
    "fix.held": (
        "{holders} holds this port, so smscat cannot open it: stop it from taking the modem"
        ' (ModemManager: the udev rule deploy/99-smscat.rules sets ENV{{ID_MM_DEVICE_IGNORE}}="1";'
        " or `systemctl stop ModemManager`), or close the other program"
    ),
    "fix.silent": (
        "this interface answers nothing to AT: it may be the module's diagnostic or GPS port"
        " (try its other interfaces), the module may still be starting, or the baud rate is"
        " wrong (--baudrate)"
    ),
    "fix.unopenable": (
        "cannot open this port ({reason}): if it is a permission, add the user that runs"
        " smscat to the dialout group"
    ),
    "fix.no_smsc": (
        "no SMS centre on the SIM (+CMS ERROR: 330 when sending): set `modems[].smsc` in"
        ' config.yaml to the operator\'s SMS centre, e.g. "+8613800100500" (written with'
        " AT+CSCA at start)"
    ),
    "fix.urc_elsewhere": (
        'the module sends its notices of new SMS and reports to its "{where}" port: smscat'
        ' moves them to the USB AT port at start (AT+QURCCFG="urcport","usbat") where its'
        " model table knows the module; for another, add"
        """ `quirks: {{urc_port_command: 'AT+QURCCFG="urcport","usbat"'}}` to this modem"""
    ),
    "fix.sim": "the SIM is not ready ({sim}): insert it, or set `modems[].pin` if it asks for one",
    "fix.mass_storage": (
        "USB {usb} ({product}) is in CD-ROM / mass-storage mode, not a modem: install"
        " usb-modeswitch (with usb-modeswitch-data) so it switches on plug-in, or run"
        " `usb_modeswitch -v {vendor} -p {product_id}` with the stick's switch message"
    ),
    "fix.hilink": (
        "USB {usb} ({product}) shows only a network interface ({drivers}): a HiLink (network-only)"
        ' stick has no AT port; switch the stick to modem ("stick") mode with usb_modeswitch'
        " (usb-modeswitch-data) or the vendor's firmware, or use a module with serial ports"
    ),
    "token.no_database": "no database at {path}: start smscat once (smscat run) first",
    "token.created": (
        "API token {name} created. Its secret is printed above, this once: store it now"
        " (the HIS's configuration); it cannot be shown again."
        " `smscat token revoke {name}` ends it."
    ),
    "token.none": "No API tokens yet (smscat token create NAME --scope followups).",
    "token.heading": "NAME  SCOPES  CREATED (BY)  LAST USED  STATE",
    "token.row": "{name}  {scopes}  {created} ({by})  {used}  {state}",
    "token.never": "never",
    "token.live": "live",
    "token.revoked_at": "revoked {at} by {by}",
    "token.revoked": "API token {name} revoked: requests with it are refused from now on.",
}

_ZH: Final[dict[str, str]] = {
    "scan.none": "未找到串口(已查看 {dev}/serial/by-id、ttyUSB*、ttyACM*)。",
    "scan.port": "{port}",
    "scan.device": "  设备:{device}",
    "scan.usb": "  USB:{usb}",
    "scan.held": "  被占用:{holders}",
    "scan.modem": "  {manufacturer} {model},固件 {revision},IMEI {imei}",
    "scan.sim": "  SIM 卡:{sim};注册:{registration};运营商:{operator}",
    "scan.signal": "  信号:{signal}",
    "scan.smsc": "  短信中心:{smsc}",
    "scan.bearer": "  短信承载(+CGSMS):{bearer}",
    "scan.ims": "  IMS(+CIREG):{ims}",
    "scan.urc_port": "  主动上报(URC):{urc}",
    "scan.interfaces": "  同一设备中应答 AT 的接口:{answering};无应答:{silent}",
    "scan.not_told": "模块未提供",
    "scan.none_value": "无",
    "scan.unknown": "未知",
    "scan.ims.registered": "已注册",
    "scan.ims.not_registered": "未注册",
    "scan.urc.same": "在应答 AT 的接口上(模块未另行说明)",
    "scan.urc.named": "模块将其发送到 {where}",
    "scan.urc.moved": (
        '模块将其发送到 {where};smscat 启动时会改到 USB AT 口(AT+QURCCFG="urcport","usbat")'
    ),
    "scan.fix": "  ! {text}",
    "scan.snippet": "粘贴到 config.yaml:",
    "scan.no_snippet": "没有模块应答,暂无可粘贴到 config.yaml 的内容。",
    "fix.held": (
        "{holders} 占用了此串口,smscat 无法打开:请阻止它接管模块"
        '(ModemManager:udev 规则 deploy/99-smscat.rules 设置 ENV{{ID_MM_DEVICE_IGNORE}}="1";'
        "或执行 `systemctl stop ModemManager`),或关闭该程序"
    ),
    "fix.silent": (
        "此接口对 AT 无应答:可能是模块的诊断口或 GPS 口(请试该设备的其他接口),"
        "模块可能仍在启动,或波特率不对(--baudrate)"
    ),
    "fix.unopenable": "无法打开此串口({reason}):若是权限问题,请把运行 smscat 的用户加入 dialout 组",
    "fix.no_smsc": (
        "SIM 卡上没有短信中心号码(发送时 +CMS ERROR: 330):请在 config.yaml 中设置"
        ' `modems[].smsc` 为运营商的短信中心,例如 "+8613800100500"(启动时用 AT+CSCA 写入)'
    ),
    "fix.urc_elsewhere": (
        '模块把新短信和状态报告的通知发到其 "{where}" 口:smscat 对其型号表中已知的模块会在启动时'
        '改到 USB AT 口(AT+QURCCFG="urcport","usbat");其他模块请在 config.yaml 中为该模块加上'
        """ `quirks: {{urc_port_command: 'AT+QURCCFG="urcport","usbat"'}}`"""
    ),
    "fix.sim": "SIM 卡未就绪({sim}):请插卡;若要求 PIN,请设置 `modems[].pin`",
    "fix.mass_storage": (
        "USB {usb}({product})处于光盘/U 盘(大容量存储)模式,不是调制解调器:请安装"
        " usb-modeswitch(及 usb-modeswitch-data)使其插入时自动切换,或用该网卡的切换报文执行"
        " `usb_modeswitch -v {vendor} -p {product_id}`"
    ),
    "fix.hilink": (
        "USB {usb}({product})只提供网络接口({drivers}):HiLink(纯网络)模式的网卡没有 AT 口;"
        "请用 usb_modeswitch(usb-modeswitch-data)或厂商固件把网卡切换到调制解调器(stick)模式,"
        "或改用带串口的模块"
    ),
    "token.no_database": "{path} 处没有数据库：请先运行一次 smscat(smscat run)",
    "token.created": (
        "接口令牌 {name} 已创建。其密钥已在上方输出，仅此一次：请立即保存(例如写入 HIS 的配置)，"
        "之后无法再查看。`smscat token revoke {name}` 可将其吊销。"
    ),
    "token.none": "还没有接口令牌(smscat token create 名称 --scope followups)。",
    "token.heading": "名称  权限  创建时间(创建者)  最近使用  状态",
    "token.row": "{name}  {scopes}  {created}({by})  {used}  {state}",
    "token.never": "从未",
    "token.live": "有效",
    "token.revoked_at": "已于 {at} 由 {by} 吊销",
    "token.revoked": "接口令牌 {name} 已吊销：此后使用它的请求都会被拒绝。",
}

WORDS: Final[dict[str, dict[str, str]]] = {"en": _EN, "zh-CN": _ZH}


def say(language: str, key: str, **fields: object) -> str:
    """The words for ``key`` in ``language`` (English where a language lacks them)."""
    table = WORDS.get(language, _EN)
    return table.get(key, _EN[key]).format(**fields)
