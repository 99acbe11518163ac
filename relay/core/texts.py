"""Every SMS, and every word the relay itself writes, in one place, in every language we speak.

:data:`TEXTS` maps a message id to its templates by language (``zh-CN``, the default, and
``en``); placeholders are :meth:`str.format` fields, and every language of a message uses exactly
the same ones. :func:`render` fills them in. An SMS in Chinese is sent as UCS-2, 70 characters per
single part, so the fixed wording stays short and the variable parts (the question, the answer)
take the room. Besides the SMS: the notices the relay writes into a thread's view, the alerts'
words (a modem's ``block.*`` reasons, which the dashboard shows too) and the report's columns.
The web's own wording (pages, forms, refusals, the admin pages) is :mod:`smscat.web.texts`,
a catalogue of the same shape that :func:`render_in` renders.

Values are inserted as they are: a ``{`` in a patient's text is not a placeholder, because
:meth:`str.format` does not read the values it inserts.

It must never: contain a phone number (or any long digit run that looks like one), do I/O, or
put a parameter's value into an exception message (values are patient text and names).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Final

DEFAULT_LANG: Final = "zh-CN"
LANGS: Final = ("zh-CN", "en")
Catalogue = Mapping[str, Mapping[str, str]]  # message id → language → template

TEXTS: Final[dict[str, dict[str, str]]] = {
    # --- to an expert ---------------------------------------------------------------------
    "question_to_expert": {
        "zh-CN": "【{dept}】{code} 患者「{nickname}」提问：{text}"
        "（直接回复本短信即可作答；同时有多个问题时请以{code}开头）",
        "en": "[{dept}] {code} Patient '{nickname}' asks: {text} "
        "(Reply to this SMS to answer; if several questions are open, start with {code})",
    },
    "followup_to_expert": {
        "zh-CN": "【{dept}】{code} 患者「{nickname}」追问：{text}"
        "（直接回复即可；同时有多个问题时请以{code}开头）",
        "en": "[{dept}] {code} Patient '{nickname}' follows up: {text} "
        "(Reply to answer; if several questions are open, start with {code})",
    },
    "unmatched_list_to_expert": {
        "zh-CN": "【{dept}】您有多个待回复的问题：{items}。请在回复开头写上编号，如 #12。",
        "en": "[{dept}] You have several open questions: {items}. "
        "Please start your reply with the code, e.g. #12.",
    },
    "list_to_expert": {
        "zh-CN": "【{dept}】待回复的问题：{items}",
        "en": "[{dept}] Open questions: {items}",
    },
    "list_empty": {
        "zh-CN": "【{dept}】目前没有待回复的问题。",
        "en": "[{dept}] You have no open questions.",
    },
    "paused": {
        "zh-CN": "【{dept}】已暂停，{hours}小时内不再发送新问题。回复“恢复”可提前恢复。",
        "en": "[{dept}] Paused: no new questions for {hours} hours. "
        "Reply RESUME to resume earlier.",
    },
    "paused_indefinitely": {
        "zh-CN": "【{dept}】已暂停，不再发送新问题，直到您回复“恢复”。",
        "en": "[{dept}] Paused: no new questions until you reply RESUME.",
    },
    "resumed": {
        "zh-CN": "【{dept}】已恢复，待回复的问题将陆续发送给您。",
        "en": "[{dept}] Resumed: waiting questions will be sent to you shortly.",
    },
    "help_to_expert": {
        "zh-CN": "【{dept}】直接回复即可作答，多个问题时以编号开头，如“#12 好的”。"
        "指令：待办、暂停 N（小时）、恢复、转 #编号、帮助",
        "en": "[{dept}] Reply to answer; with several questions, start with the code, "
        "e.g. '#12 OK'. "
        "Commands: LIST, PAUSE N (hours), RESUME, 转 #code, HELP",
    },
    "welcome_expert": {
        "zh-CN": "【{dept}】您好，您已加入专家咨询。患者的问题会以短信发给您，"
        "直接回复即可作答。回复“帮助”查看指令。",
        "en": "[{dept}] Welcome to the expert consultation service. Questions arrive by SMS; "
        "reply to answer. Reply HELP for commands.",
    },
    # --- to either party ------------------------------------------------------------------
    "sms_repeat": {  # after typed text that went to the same phone within the last day
        "zh-CN": "（第{n}次）",
        "en": " (time {n})",
    },
    # --- to a patient ---------------------------------------------------------------------
    "reply_confirmed": {"zh-CN": "【{dept}】已回复{code}。", "en": "[{dept}] Answer {code} sent."},
    "quick_unknown": {
        "zh-CN": "【{dept}】没有快捷回复{name}，请检查编号后重发。",
        "en": "[{dept}] There is no quick reply {name}; please check and send again.",
    },
    "no_assistant": {
        "zh-CN": "【{dept}】您没有设置助手，无法转交。",
        "en": "[{dept}] You have no assistant to pass it to.",
    },
    "transferred": {
        "zh-CN": "【{dept}】{code}已转给您的助手。",
        "en": "[{dept}] {code} passed to your assistant.",
    },
    "escalated": {
        "zh-CN": "【{dept}】{code}已转给医生本人。",
        "en": "[{dept}] {code} passed to the doctor.",
    },
    "escalated_to_expert": {
        "zh-CN": "【{dept}】{code} 助手转来，患者「{nickname}」提问：{text}"
        "（直接回复本短信即可作答）",
        "en": "[{dept}] {code} from your assistant: patient '{nickname}' asks: {text} "
        "(Reply to this SMS to answer)",
    },
    "handoff_to_expert": {
        "zh-CN": "【{dept}】{name}医生的{count}个咨询已转给您：{items}。回复时请以编号开头。",
        "en": "[{dept}] {count} questions of Dr {name} are now yours: {items}. "
        "Start your replies with the code.",
    },
    "answer_to_patient_assistant": {
        "zh-CN": "【{dept}】{expert}医生团队回复{code}：{text}（回复本短信可追问，回复TD退订）",
        "en": "[{dept}] Dr {expert}'s team answered {code}: {text} "
        "(Reply to this SMS to follow up; reply TD to unsubscribe)",
    },
    "alert_open": {"zh-CN": "【smscat告警】{what}", "en": "[smscat alert] {what}"},
    "alert_cleared": {"zh-CN": "【smscat恢复】{what}", "en": "[smscat all clear] {what}"},
    "alert.modem_down": {
        "zh-CN": "短信猫{subject}无法发短信：{why}",
        "en": "Modem {subject} cannot send SMS: {why}",
    },
    "alert.sms_failed": {
        "zh-CN": "最近一天有{count}条短信发送失败（号码或内容被拒），请在管理页查看。",
        "en": "{count} SMS failed in the last day (number or content refused); see the admin page.",
    },
    # Why a modem cannot send (ModemSupervisor.blocked): alerts, the dashboard, /healthz words.
    "block.connecting": {
        "zh-CN": "正在连接短信猫。",
        "en": "connecting to the modem.",
    },
    "block.down": {
        "zh-CN": "短信猫断开或无响应，正在重连（检查USB线和电源）。",
        "en": "the modem is unplugged or not answering; reconnecting (check its USB cable "
        "and power).",
    },
    "block.sim-pin": {
        "zh-CN": "SIM卡需要PIN码：未配置，或配置的PIN被拒绝（不会再试，以免锁卡）。"
        "请核对modems.pin。",
        "en": "the SIM needs its PIN: none configured, or the configured one was refused (never "
        "tried again, so the SIM is not locked). Check modems.pin.",
    },
    "block.sim-puk": {
        "zh-CN": "SIM卡已被PUK锁定：请把卡插到手机上用PUK码解锁（向运营商查询PUK）。",
        "en": "the SIM is blocked behind its PUK: unblock it in a phone with the PUK (ask the "
        "operator for it).",
    },
    "block.sim": {
        "zh-CN": "SIM卡未插好或故障。",
        "en": "the SIM is missing or failing.",
    },
    "block.no-network": {
        "zh-CN": "没有网络信号（未注册）。短信在队列中等待，恢复后立即发出。",
        "en": "no network (not registered). SMS wait in the queue and go as soon as it is back.",
    },
    "block.denied": {
        "zh-CN": "网络拒绝注册（SIM卡可能停机或欠费）。",
        "en": "the network denies registration (the SIM may be suspended or unpaid).",
    },
    "block.barred": {
        "zh-CN": "运营商禁止此卡发短信（欠费或被限制）。短信改由其他卡发送或等待。",
        "en": "the operator bars this SIM's SMS (unpaid or restricted). SMS go through another "
        "SIM, or wait.",
    },
    "block.no-smsc": {
        "zh-CN": "SIM卡没有短信中心号码（AT+CSCA）。",
        "en": "the SIM has no SMS centre number (AT+CSCA).",
    },
    "block.refused": {
        "zh-CN": "短信猫拒绝发送短信（不允许或不支持的操作）。",
        "en": "the modem refuses to send SMS (operation not allowed or not supported).",
    },
    "alert.queue_stalled": {
        "zh-CN": "短信队列已{minutes}分钟没有发出。",
        "en": "The SMS queue has not moved for {minutes} minutes.",
    },
    "alert.cap_near": {
        "zh-CN": "短信猫{subject}接近发送上限。",
        "en": "Modem {subject} is near its sending cap.",
    },
    "alert.short_code": {
        "zh-CN": "{who}发来{count}条短信，请到管理页查看，看完标记为已处理。",
        "en": "{count} SMS from {who}: read them on the admin page and mark them handled.",
    },
    "alert.sender.operator": {"zh-CN": "运营商", "en": "the operator"},
    "alert.sender.unknown": {"zh-CN": "未知号码", "en": "unknown numbers"},
    "answer_to_patient": {
        "zh-CN": "【{dept}】{expert}医生回复{code}：{text}（回复本短信可追问，回复TD退订）",
        "en": "[{dept}] Dr {expert} answered {code}: {text} "
        "(Reply to this SMS to follow up; reply TD to unsubscribe)",
    },
    "verification_code": {
        "zh-CN": "【{dept}】您的验证码是{code}，{minutes}分钟内有效，请勿告诉他人。",
        "en": "[{dept}] Your verification code is {code}, valid for {minutes} minutes. "
        "Do not share it.",
    },
    "unmatched_list_to_patient": {
        "zh-CN": "【{dept}】您有多个进行中的咨询：{codes}。请在回复开头写上编号，如 #2。",
        "en": "[{dept}] You have several open questions: {codes}. "
        "Please start your reply with the code, e.g. #2.",
    },
    "stop_confirmed": {
        "zh-CN": "【{dept}】您已退订，不会再收到本服务的短信。如需恢复，请回复“开通”。",
        "en": "[{dept}] You have unsubscribed and will receive no more SMS from this service. "
        "To come back, reply START.",
    },
    # --- a long SMS that lost a part (relay/service.py: posted after the reassembly timeout) -
    "missing_part": {  # where each part that never arrived would be, in the text as posted
        "zh-CN": "（部分内容未收到）",
        "en": "(part of this message did not arrive)",
    },
    "complete_version": {  # the text sent again once the late part completed it
        "zh-CN": "（完整版）{text}",
        "en": "(complete version) {text}",
    },
    # --- notices the relay writes into a thread's view (lifecycle.page_notice) ------------
    "delivery_delayed": {
        "zh-CN": "您的问题暂时未能送达医生，我们正在处理，请稍后再来查看。",
        "en": "Your question could not reach the doctor yet. We are on it; please check later.",
    },
    "page.followups_waiting": {
        "zh-CN": "您有{count}条追问暂存在这里，医生回复后会一并转给医生。",
        "en": "{count} of your follow-ups wait here: they go to the doctor together once the "
        "doctor answers.",
    },
    "page.answer_undelivered": {
        "zh-CN": "医生的回复未能以短信发到您的手机，请在本页查看；我们已通知管理员。",
        "en": "The doctor's answer could not be sent to your phone by SMS; please read it here. "
        "The administrators have been told.",
    },
    # --- statistics, the weekly digest, erasure (relay/reporting.py, relay/retention.py) ----
    "report.expert": {"zh-CN": "专家", "en": "Expert"},
    "report.title": {"zh-CN": "职称", "en": "Title"},
    "report.department": {"zh-CN": "科室", "en": "Department"},
    "report.questions": {"zh-CN": "提问数", "en": "Questions"},
    "report.answered": {"zh-CN": "已回复数", "en": "Answered"},
    "report.answered_percent": {"zh-CN": "回复率（%）", "en": "Answered (%)"},
    "report.median_first_answer": {
        "zh-CN": "首次回复用时中位数（秒）",
        "en": "Median time to first answer (s)",
    },
    "report.thanks": {"zh-CN": "收到感谢数", "en": "Thanks received"},
    "report.total": {"zh-CN": "合计", "en": "Total"},
    # 随访 figures (relay/services/care_report.py); department and total are the words above
    "report.care.plan": {"zh-CN": "随访计划", "en": "Follow-up plan"},
    "report.care.doctor": {"zh-CN": "医生", "en": "Doctor"},
    "report.care.enrolled": {"zh-CN": "入组数", "en": "Enrolled"},
    "report.care.reached": {"zh-CN": "短信送达数", "en": "Reached (delivered)"},
    "report.care.replied": {"zh-CN": "有回复数", "en": "Replied"},
    "report.care.red_flags": {"zh-CN": "预警数", "en": "Red flags"},
    "report.care.median_ack": {
        "zh-CN": "预警确认用时中位数（分钟）",
        "en": "Median time to acknowledge a red flag (min)",
    },
    "report.care.completed": {"zh-CN": "已完成数", "en": "Completed"},
    "report.care.opted_out": {"zh-CN": "退出数", "en": "Opted out"},
    "report.care.ended_early": {
        "zh-CN": "提前结束数（再入院、死亡等）",
        "en": "Ended early (readmitted, deceased …)",
    },
    "weekly_digest": {
        "zh-CN": "【{dept}】{name}医生，上周您收到{asked}个问题，回复{answered}个，"
        "收到{thanks}次感谢。谢谢您！",
        "en": "[{dept}] Dr {name}, last week you received {asked} questions, answered "
        "{answered} and were thanked {thanks} times. Thank you!",
    },
    "erased_number": {"zh-CN": "[号码已删除]", "en": "[number erased]"},
    # --- the link again by SMS (from the thread page or the department page) --------------------
    "link_to_patient": {
        "zh-CN": "【{dept}】您的咨询链接：{url}",
        "en": "[{dept}] The link to your question: {url}",
    },
    "links_to_patient": {
        "zh-CN": "【{dept}】您的咨询链接：{links}",
        "en": "[{dept}] The links to your questions: {links}",
    },
    # --- an SMS budget no one client can spend; codes only where they belong (issue 14) -----
    "followups_waited_to_expert": {  # what the patient wrote past the cap, when the answer came
        "zh-CN": "【{dept}】{code} 患者「{nickname}」在您回复前另有{count}条追问：{text}"
        "（直接回复即可；同时有多个问题时请以{code}开头）",
        "en": "[{dept}] {code} Patient '{nickname}' wrote {count} more before your answer: "
        "{text} (Reply to answer; if several questions are open, start with {code})",
    },
    "start_confirmed": {
        "zh-CN": "【{dept}】您已重新开通本服务的短信，可以再次获取验证码。",
        "en": "[{dept}] SMS from this service are on again; you can request a code again.",
    },
    "block.care_menu": {"zh-CN": "回复{items}", "en": "Reply {items}"},  # 1 好转，2 没变化
    "care_reminder": {  # the one reminder of a step the patient has not answered
        "zh-CN": "【{dept}】{nickname}您好，温馨提醒：前几天的随访短信您还没有回复。{menu}",
        "en": "[{dept}] Hello {nickname}, a reminder: we have not heard from you yet. {menu}",
    },
    "care_escalation_to_staff": {  # a red flag in a patient's reply to a follow-up plan
        "zh-CN": "【{dept}】随访预警 {code}：患者「{nickname}」（{plan}）回复：{text}。"
        "请于{deadline}前处理，回复“{code} 收到”确认；电话号码见管理页面。",
        "en": "[{dept}] Follow-up alert {code}: patient '{nickname}' ({plan}) replied: {text}. "
        "Act by {deadline} and reply '{code} OK' to acknowledge; the number is on the admin page.",
    },
    "block.care_alert": {
        "zh-CN": "随访预警（回复编号+收到即确认）",
        "en": "follow-up alert (reply code + OK)",
    },
    "block.care_date": {"zh-CN": "{month}月{day}日", "en": "{day}/{month}"},
    "care_red_flag_to_patient": {  # after a reply that raised a red flag
        "zh-CN": "【{dept}】已收到您的回复，医护人员会尽快与您联系。"
        "如情况紧急，请立即拨打120或到急诊就诊。",
        "en": "[{dept}] We have your reply; a nurse or doctor will contact you soon. "
        "In an emergency call 120 or go to the emergency department now.",
    },
    "care_ack_confirmed": {
        "zh-CN": "【{dept}】随访预警 {code} 已确认，谢谢。",
        "en": "[{dept}] Follow-up alert {code} acknowledged, thank you.",
    },
}


def placeholders(template: str) -> frozenset[str]:
    """The field names a template uses (``{code}`` twice counts once)."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


def render_in(catalogue: Catalogue, key: str, lang: str = DEFAULT_LANG, /, **params: object) -> str:
    """The text ``key`` of ``catalogue`` in ``lang`` with ``params`` filled in; extra params
    are ignored. One checking renderer for both catalogues (this one and the web's).

    Raises KeyError for an unknown key or language, ValueError naming a missing parameter.
    """
    try:
        by_lang = catalogue[key]
    except KeyError:
        raise KeyError(f"no text {key!r}") from None
    try:
        template = by_lang[lang]
    except KeyError:
        raise KeyError(f"no {lang!r} text for {key!r}") from None
    missing = sorted(placeholders(template) - params.keys())
    if missing:
        raise ValueError(f"text {key!r} needs parameter(s) {', '.join(missing)}")
    return template.format(**params)


def render_or_in(
    catalogue: Catalogue, key: str, fallback: str, lang: str = DEFAULT_LANG, /, **params: object
) -> str:
    """The text ``key`` of ``catalogue`` (see :func:`render_in`), or ``fallback`` as it is
    when there is no such text (a status, a reason or a state it has no words for yet)."""
    return render_in(catalogue, key, lang, **params) if key in catalogue else fallback


def render_or(key: str, fallback: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text ``key`` (see :func:`render`), or ``fallback`` as it is when there is no such
    text (a reason or a state this catalogue has no words for yet)."""
    return render_or_in(TEXTS, key, fallback, lang, **params)


def render(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text ``key`` in ``lang`` with ``params`` filled in; extra params are ignored.

    Raises KeyError for an unknown key or language, ValueError naming a missing parameter.
    """
    return render_in(TEXTS, key, lang, **params)
