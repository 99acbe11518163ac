"""Every user-facing SMS and status text, in one place, in every language we speak.

:data:`TEXTS` maps a message id to its templates by language (``zh-CN``, the default, and
``en``); placeholders are :meth:`str.format` fields, and every language of a message uses exactly
the same ones. :func:`render` fills them in. An SMS in Chinese is sent as UCS-2, 70 characters per
single part, so the fixed wording stays short and the variable parts (the question, the answer)
take the room.

Values are inserted as they are: a ``{`` in a patient's text is not a placeholder, because
:meth:`str.format` does not read the values it inserts.

It must never: contain a phone number (or any long digit run that looks like one), do I/O, or
put a parameter's value into an exception message (values are patient text and names).
"""

from __future__ import annotations

import string
from typing import Final

DEFAULT_LANG: Final = "zh-CN"
LANGS: Final = ("zh-CN", "en")

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
        "zh-CN": "您有多个待回复的问题：{codes}。请在回复开头写上编号，如 #12。",
        "en": "You have several open questions: {codes}. "
        "Please start your reply with the code, e.g. #12.",
    },
    "list_to_expert": {
        "zh-CN": "待回复的问题：{items}",
        "en": "Open questions: {items}",
    },
    "list_empty": {
        "zh-CN": "目前没有待回复的问题。",
        "en": "You have no open questions.",
    },
    "paused": {
        "zh-CN": "已暂停，{hours}小时内不再发送新问题。回复“恢复”可提前恢复。",
        "en": "Paused: no new questions for {hours} hours. Reply RESUME to resume earlier.",
    },
    "paused_indefinitely": {
        "zh-CN": "已暂停，不再发送新问题，直到您回复“恢复”。",
        "en": "Paused: no new questions until you reply RESUME.",
    },
    "resumed": {
        "zh-CN": "已恢复，待回复的问题将陆续发送给您。",
        "en": "Resumed: waiting questions will be sent to you shortly.",
    },
    "help_to_expert": {
        "zh-CN": "直接回复即可作答，多个问题时以编号开头，如“#12 好的”。"
        "指令：待办、暂停 N（小时）、恢复、转 #编号、帮助",
        "en": "Reply to answer; with several questions, start with the code, e.g. '#12 OK'. "
        "Commands: LIST, PAUSE N (hours), RESUME, 转 #code, HELP",
    },
    "welcome_expert": {
        "zh-CN": "【{dept}】您好，您已加入专家咨询。患者的问题会以短信发给您，"
        "直接回复即可作答。回复“帮助”查看指令。",
        "en": "[{dept}] Welcome to the expert consultation service. Questions arrive by SMS; "
        "reply to answer. Reply HELP for commands.",
    },
    # --- to a patient ---------------------------------------------------------------------
    "reply_confirmed": {"zh-CN": "已回复{code}。", "en": "Answer {code} sent."},
    "quick_unknown": {
        "zh-CN": "没有快捷回复{name}，请检查编号后重发。",
        "en": "There is no quick reply {name}; please check and send again.",
    },
    "no_assistant": {
        "zh-CN": "您没有设置助手，无法转交。",
        "en": "You have no assistant to pass it to.",
    },
    "transferred": {"zh-CN": "{code}已转给您的助手。", "en": "{code} passed to your assistant."},
    "escalated": {"zh-CN": "{code}已转给医生本人。", "en": "{code} passed to the doctor."},
    "escalated_to_expert": {
        "zh-CN": "【{dept}】{code} 助手转来，患者「{nickname}」提问：{text}"
        "（直接回复本短信即可作答）",
        "en": "[{dept}] {code} from your assistant: patient '{nickname}' asks: {text} "
        "(Reply to this SMS to answer)",
    },
    "handoff_to_expert": {
        "zh-CN": "{name}医生的{count}个咨询已转给您：{items}。回复时请以编号开头。",
        "en": "{count} questions of Dr {name} are now yours: {items}. "
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
        "zh-CN": "短信猫{subject}离线或未注册网络。",
        "en": "Modem {subject} is offline or not registered.",
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
        "zh-CN": "运营商{sender}来信：{text}",
        "en": "The operator ({sender}) wrote: {text}",
    },
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
        "zh-CN": "您有多个进行中的咨询：{codes}。请在回复开头写上编号，如 #2。",
        "en": "You have several open questions: {codes}. "
        "Please start your reply with the code, e.g. #2.",
    },
    "stop_confirmed": {
        "zh-CN": "您已退订，不会再收到本服务的短信。",
        "en": "You have unsubscribed and will receive no more SMS from this service.",
    },
    # --- on the patient's page ------------------------------------------------------------
    "delivery_delayed": {
        "zh-CN": "您的问题暂时未能送达医生，我们正在处理，请稍后再来查看。",
        "en": "Your question could not reach the doctor yet. We are on it; please check later.",
    },
    "status.queued": {"zh-CN": "已提交，等待发送", "en": "Submitted, waiting to be sent"},
    "status.held": {"zh-CN": "医生暂不方便，稍后送达", "en": "Doctor unavailable, sent later"},
    "status.sent": {"zh-CN": "已发送给医生", "en": "Sent to the doctor"},
    "status.delivered": {"zh-CN": "已送达医生", "en": "Delivered to the doctor"},
    "status.answered": {"zh-CN": "医生已回复", "en": "The doctor has answered"},
    "status.closed": {"zh-CN": "已结束", "en": "Closed"},
    "status.failed": {"zh-CN": "暂未送达，正在处理", "en": "Not delivered yet, being handled"},
    "status.expired": {"zh-CN": "已过期，未获回复", "en": "Expired without an answer"},
    # --- errors the API and the pages show (``error.<key>`` of relay.errors) -------------
    "error.not_json": {"zh-CN": "请求格式不正确。", "en": "The request is not a JSON object."},
    "error.bad_request": {"zh-CN": "请求格式不正确。", "en": "The request is malformed."},
    "error.invalid_field": {"zh-CN": "填写的内容有误。", "en": "A field is invalid."},
    "error.token_required": {
        "zh-CN": "缺少访问凭证，请使用提问后得到的链接。",
        "en": "A token is required: use the link you got when you asked.",
    },
    "error.not_found": {"zh-CN": "未找到。", "en": "Not found."},
    "error.method_not_allowed": {"zh-CN": "不支持此请求方法。", "en": "Method not allowed."},
    "error.body_too_large": {"zh-CN": "提交的内容过大。", "en": "The request body is too large."},
    "error.internal": {
        "zh-CN": "服务暂时出错，请稍后再试。",
        "en": "Something went wrong; try again later.",
    },
    "error.expert": {"zh-CN": "未找到这位专家。", "en": "No such expert."},
    "error.thread": {"zh-CN": "未找到这个咨询。", "en": "No such question."},
    "error.thread_closed": {
        "zh-CN": "这个咨询已结束，请重新提问。",
        "en": "This question is closed; please ask a new one.",
    },
    "error.nickname_length": {
        "zh-CN": "昵称需为1到20个字。",
        "en": "The nickname must be 1 to 20 characters.",
    },
    "error.text_length": {
        "zh-CN": "请填写内容，且不要超过字数上限。",
        "en": "The text is empty or longer than allowed.",
    },
    "error.phone_invalid": {
        "zh-CN": "请填写正确的手机号码。",
        "en": "Please enter a valid mobile number.",
    },
    "error.code_required": {
        "zh-CN": "请先获取并填写短信验证码。",
        "en": "Please request and enter the SMS code.",
    },
    "error.code_wrong": {"zh-CN": "验证码不正确。", "en": "The code is wrong."},
    "error.code_expired": {
        "zh-CN": "验证码已过期，请重新获取。",
        "en": "The code has expired; please request a new one.",
    },
    "error.code_attempts": {
        "zh-CN": "验证码错误次数过多，请重新获取。",
        "en": "Too many wrong codes; please request a new one.",
    },
    "error.codes_per_hour": {
        "zh-CN": "验证码发送过于频繁，请一小时后再试。",
        "en": "Too many codes requested; try again in an hour.",
    },
    "error.verification_unknown": {
        "zh-CN": "验证信息无效，请重新获取验证码。",
        "en": "Unknown verification; please request a new code.",
    },
    "error.verification_used": {
        "zh-CN": "这个验证码已使用过，请重新获取。",
        "en": "This code has been used; please request a new one.",
    },
    "error.handoff_target": {
        "zh-CN": "只能转交给另一位在职专家。",
        "en": "Threads can only go to another active expert.",
    },
    "error.status_400": {"zh-CN": "请求格式不正确。", "en": "The request is malformed."},
    "error.status_403": {"zh-CN": "验证未通过。", "en": "Verification failed."},
    "error.status_404": {"zh-CN": "未找到。", "en": "Not found."},
    "error.status_405": {"zh-CN": "不支持此请求方法。", "en": "Method not allowed."},
    "error.status_409": {
        "zh-CN": "当前状态不允许此操作。",
        "en": "Not allowed in the current state.",
    },
    "error.status_413": {"zh-CN": "提交的内容过大。", "en": "The request body is too large."},
    "error.status_422": {"zh-CN": "填写的内容有误。", "en": "A field is invalid."},
    "error.status_429": {
        "zh-CN": "操作过于频繁，请稍后再试。",
        "en": "Too many attempts; try again later.",
    },
    "error.status_500": {
        "zh-CN": "服务暂时出错，请稍后再试。",
        "en": "Something went wrong; try again later.",
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
    "weekly_digest": {
        "zh-CN": "【{dept}】{name}医生，上周您收到{asked}个问题，回复{answered}个，"
        "收到{thanks}次感谢。谢谢您！",
        "en": "[{dept}] Dr {name}, last week you received {asked} questions, answered "
        "{answered} and were thanked {thanks} times. Thank you!",
    },
    "erased_number": {"zh-CN": "[号码已删除]", "en": "[number erased]"},
    "error.expert_phone": {
        "zh-CN": "这是专家的号码，请先在配置中移除这位专家。",
        "en": "This number belongs to an expert; remove the expert from the configuration first.",
    },
    # --- the patient's web pages (web/pages.py, web/templates/) --------------------------
    "page.emergency": {
        "zh-CN": "急症请立即拨打120或到急诊就诊",
        "en": "In an emergency, call 120 or go to the emergency department now.",
    },
    "page.switch_lang": {"zh-CN": "English 英文版", "en": "中文版"},
    "page.home": {"zh-CN": "首页", "en": "Home"},
    "page.footer": {
        "zh-CN": "本服务由医院统一管理，医患双方的手机号码互不可见。",
        "en": "Run by the hospital. Neither patients nor doctors ever see each other's number.",
    },
    "page.intro": {
        "zh-CN": "选择一位专家留下您的问题，专家方便时会回复。",
        "en": "Choose an expert and leave your question; the expert answers when free.",
    },
    "page.experts_heading": {"zh-CN": "专家", "en": "Experts"},
    "page.no_experts": {"zh-CN": "暂时没有可咨询的专家。", "en": "No experts are available."},
    "page.specialty": {"zh-CN": "擅长：{specialty}", "en": "Specialty: {specialty}"},
    "page.accepting.yes": {"zh-CN": "现在可以提问", "en": "Taking questions now"},
    "page.accepting.paused": {
        "zh-CN": "医生暂停接收新问题，您的问题将在恢复后送达",
        "en": "Paused: your question reaches the doctor when they resume",
    },
    "page.accepting.cap": {
        "zh-CN": "今日提问已满，您的问题将于明天送达",
        "en": "Today's questions are full: yours reaches the doctor tomorrow",
    },
    "page.accepting.quiet": {
        "zh-CN": "医生休息中，您的问题将在休息时间结束后送达",
        "en": "Resting now: your question reaches the doctor after the break",
    },
    "page.accepting.later": {
        "zh-CN": "暂不接收，您的问题将稍后送达",
        "en": "Not taking questions now: yours reaches the doctor later",
    },
    "page.median.none": {"zh-CN": "暂无回复用时记录", "en": "No answer times yet"},
    "page.median.minutes": {
        "zh-CN": "通常约{n}分钟内首次回复",
        "en": "Usually first answers within about {n} min",
    },
    "page.median.hours": {
        "zh-CN": "通常约{n}小时内首次回复",
        "en": "Usually first answers within about {n} h",
    },
    "page.median.days": {
        "zh-CN": "通常约{n}天内首次回复",
        "en": "Usually first answers within about {n} days",
    },
    "page.open_expert": {"zh-CN": "查看问答并提问", "en": "Read answers and ask"},
    "page.recent_heading": {"zh-CN": "最新公开问答", "en": "Latest public questions"},
    "page.asked_to": {"zh-CN": "咨询{name}", "en": "To {name}"},
    "page.no_threads": {"zh-CN": "还没有公开问答。", "en": "No public questions yet."},
    "page.no_results": {"zh-CN": "没有找到相关问答。", "en": "No matching questions."},
    "page.from.patient": {"zh-CN": "患者", "en": "Patient"},
    "page.from.expert": {"zh-CN": "医生", "en": "Doctor"},
    "page.from.assistant": {"zh-CN": "医生团队", "en": "Doctor's team"},
    "page.from.system": {"zh-CN": "系统", "en": "System"},
    "page.board_heading": {"zh-CN": "公开问答", "en": "Public questions and answers"},
    "page.search_label": {"zh-CN": "搜索问答", "en": "Search the answers"},
    "page.search_button": {"zh-CN": "搜索", "en": "Search"},
    "page.results": {"zh-CN": "共{total}条", "en": "{total} found"},
    "page.prev": {"zh-CN": "上一页", "en": "Previous"},
    "page.next": {"zh-CN": "下一页", "en": "Next"},
    "page.page_of": {"zh-CN": "第{page}/{pages}页", "en": "Page {page} of {pages}"},
    "page.ask_heading": {"zh-CN": "向{name}提问", "en": "Ask {name}"},
    "page.nickname": {"zh-CN": "昵称", "en": "Nickname"},
    "page.nickname_hint": {
        "zh-CN": "只显示昵称，请勿填写真实姓名",
        "en": "Only your nickname is shown: please don't use your real name",
    },
    "page.question": {"zh-CN": "您的问题", "en": "Your question"},
    "page.counter": {"zh-CN": "已输入{count}/{max}字", "en": "{count}/{max} characters"},
    "page.phone": {"zh-CN": "手机号（选填）", "en": "Mobile number (optional)"},
    "page.phone_hint": {
        "zh-CN": "验证后医生的回复也会以短信发给您，号码不会公开",
        "en": "Once verified, the answer also comes to you by SMS. The number is never shown.",
    },
    "page.send_code": {"zh-CN": "发送验证码", "en": "Send code"},
    "page.resend_in": {"zh-CN": "{seconds}秒后可重发", "en": "Resend in {seconds} s"},
    "page.code_sent": {
        "zh-CN": "验证码已发送，请查看手机短信",
        "en": "Code sent: please check your SMS",
    },
    "page.code": {"zh-CN": "短信验证码", "en": "SMS code"},
    "page.visibility": {"zh-CN": "是否公开", "en": "Who may read it"},
    "page.public": {
        "zh-CN": "公开：匿名显示在问答区，可帮助其他患者",
        "en": "Public: shown anonymously on the board, where it may help others",
    },
    "page.private": {
        "zh-CN": "不公开：只有您和医生可见",
        "en": "Private: only you and the doctor",
    },
    "page.visibility_required": {
        "zh-CN": "请选择是否公开。",
        "en": "Please choose public or private.",
    },
    "page.privacy": {
        "zh-CN": "隐私说明：医生看不到您的手机号，您也看不到医生的号码；"
        "公开问答只显示昵称，其中的电话号码会被隐藏。",
        "en": "Privacy: the doctor never sees your number, nor you the doctor's. "
        "Public questions show only your nickname, with phone numbers hidden.",
    },
    "page.submit": {"zh-CN": "提交问题", "en": "Submit question"},
    "page.sending": {"zh-CN": "正在提交…", "en": "Sending…"},
    "page.not_sent": {"zh-CN": "未能提交：", "en": "Not sent: "},
    "page.network_error": {
        "zh-CN": "网络连接失败，请稍后重试。",
        "en": "The connection failed; please try again.",
    },
    "page.thread_heading": {"zh-CN": "我的咨询", "en": "My question"},
    "page.status": {"zh-CN": "状态：{status}", "en": "Status: {status}"},
    "page.save_link": {
        "zh-CN": "请保存这个链接：这是查看回复的唯一方式，请勿分享给他人。",
        "en": "Save this link: it is the only way back to the answer. Do not share it.",
    },
    "page.copy": {"zh-CN": "复制链接", "en": "Copy link"},
    "page.copied": {"zh-CN": "已复制", "en": "Copied"},
    "page.live": {
        "zh-CN": "医生回复后会自动显示在这里，无需刷新。",
        "en": "The answer appears here by itself; no need to reload.",
    },
    "page.followup_heading": {"zh-CN": "追问", "en": "Follow up"},
    "page.followup_label": {"zh-CN": "追问内容", "en": "Your follow-up"},
    "page.followup_submit": {"zh-CN": "发送追问", "en": "Send"},
    "page.withdraw": {"zh-CN": "撤回问题", "en": "Withdraw the question"},
    "page.withdraw_hint": {
        "zh-CN": "撤回后咨询即结束，尚未发出的短信不再发送。",
        "en": "Withdrawing closes the question; messages not yet sent are cancelled.",
    },
    "page.withdraw_confirm": {
        "zh-CN": "确定撤回这个问题吗？",
        "en": "Withdraw this question?",
    },
    "page.closed": {
        "zh-CN": "这个咨询已结束。如需继续咨询，请重新提问。",
        "en": "This question is closed. To go on, please ask a new one.",
    },
    "page.back_home": {"zh-CN": "返回首页", "en": "Back to the home page"},
    "page.error_404_title": {"zh-CN": "页面不存在", "en": "Page not found"},
    "page.error_404": {
        "zh-CN": "您访问的页面不存在，或链接已失效。",
        "en": "This page does not exist, or the link is no longer valid.",
    },
    "page.error_405_title": {"zh-CN": "不支持此操作", "en": "Not allowed"},
    "page.error_405": {
        "zh-CN": "这个页面不支持这种请求。",
        "en": "This page does not accept that kind of request.",
    },
    "page.error_413_title": {"zh-CN": "内容过大", "en": "Too large"},
    "page.error_413": {
        "zh-CN": "提交的内容过大，请精简后再试。",
        "en": "What you sent is too large; please shorten it and try again.",
    },
    "page.error_500_title": {"zh-CN": "服务暂时出错", "en": "Something went wrong"},
    "page.error_500": {
        "zh-CN": "服务暂时出错，请稍后再试。",
        "en": "Something went wrong on our side; please try again later.",
    },
    "page.error_other_title": {"zh-CN": "无法完成请求", "en": "Request not completed"},
    "page.error_other": {
        "zh-CN": "请求未能完成，请返回后重试。",
        "en": "The request could not be completed; please go back and try again.",
    },  # --- the admin page -----------------------------------------------------------------
    "admin.title": {
        "zh-CN": "管理",
        "en": "Administration",
    },
    "admin.login_heading": {
        "zh-CN": "管理员登录",
        "en": "Administrator login",
    },
    "admin.username": {
        "zh-CN": "用户名",
        "en": "Username",
    },
    "admin.password": {
        "zh-CN": "密码",
        "en": "Password",
    },
    "admin.login_button": {
        "zh-CN": "登录",
        "en": "Log in",
    },
    "admin.logout_button": {
        "zh-CN": "退出登录",
        "en": "Log out",
    },
    "admin.login_failed": {
        "zh-CN": "用户名或密码不正确。",
        "en": "Wrong username or password.",
    },
    "admin.no_admins": {
        "zh-CN": "尚未配置管理员：请打开启动日志中的一次性设置链接，"
        "或用 smscat hash-password 生成哈希写入 config.yaml。",
        "en": "No administrator is configured: open the one-time setup link in the log, "
        "or make a hash with smscat hash-password for admins in config.yaml.",
    },
    "admin.locked_title": {
        "zh-CN": "尝试次数过多",
        "en": "Too many attempts",
    },
    "admin.locked": {
        "zh-CN": "登录失败次数过多，请{minutes}分钟后再试。",
        "en": "Too many failed logins; try again in {minutes} minutes.",
    },
    "admin.forbidden_title": {
        "zh-CN": "请求被拒绝",
        "en": "Request refused",
    },
    "admin.forbidden": {
        "zh-CN": "表单已过期或来源不明，请重新打开管理页面后再试。",
        "en": "The form has expired or came from elsewhere; open the admin page again and retry.",
    },
    "admin.signed_in_as": {
        "zh-CN": "已登录：{username}",
        "en": "Logged in as {username}",
    },
    "admin.modems_heading": {
        "zh-CN": "短信猫",
        "en": "Modems",
    },
    "admin.modem_id": {
        "zh-CN": "编号",
        "en": "Id",
    },
    "admin.modem_state": {
        "zh-CN": "状态",
        "en": "State",
    },
    "admin.signal": {
        "zh-CN": "信号（dBm）",
        "en": "Signal (dBm)",
    },
    "admin.registration": {
        "zh-CN": "注册",
        "en": "Registration",
    },
    "admin.operator": {
        "zh-CN": "运营商",
        "en": "Operator",
    },
    "admin.sent_today": {
        "zh-CN": "今日已发（条）",
        "en": "Sent today (parts)",
    },
    "admin.unknown": {
        "zh-CN": "未知",
        "en": "unknown",
    },
    "admin.no_modems": {
        "zh-CN": "未配置短信猫。",
        "en": "No modem is configured.",
    },
    "admin.queue_heading": {
        "zh-CN": "发送队列",
        "en": "Outbox",
    },
    "admin.queue.queued": {
        "zh-CN": "待发送",
        "en": "queued",
    },
    "admin.queue.sent": {
        "zh-CN": "已发送",
        "en": "sent",
    },
    "admin.queue.delivered": {
        "zh-CN": "已送达",
        "en": "delivered",
    },
    "admin.queue.failed": {
        "zh-CN": "发送失败",
        "en": "failed",
    },
    "admin.queue.cancelled": {
        "zh-CN": "已取消",
        "en": "cancelled",
    },
    "admin.unmatched_heading": {
        "zh-CN": "未匹配的短信",
        "en": "Unmatched SMS",
    },
    "admin.unmatched_none": {
        "zh-CN": "没有待处理的未匹配短信。",
        "en": "No unmatched SMS to deal with.",
    },
    "admin.from": {
        "zh-CN": "发件人",
        "en": "From",
    },
    "admin.received": {
        "zh-CN": "收到时间",
        "en": "Received",
    },
    "admin.text": {
        "zh-CN": "内容",
        "en": "Text",
    },
    "admin.thread_id": {
        "zh-CN": "问题编号（线程号）",
        "en": "Thread id",
    },
    "admin.assign_button": {
        "zh-CN": "作为专家回复发布",
        "en": "Post as the expert's answer",
    },
    "admin.assigned": {
        "zh-CN": "已作为回复发布到问题{thread}。",
        "en": "Posted as the answer on thread {thread}.",
    },
    "admin.alerts_heading": {
        "zh-CN": "未解决的告警",
        "en": "Open alerts",
    },
    "admin.alerts_none": {
        "zh-CN": "没有未解决的告警。",
        "en": "No open alert.",
    },
    "admin.alert.modem_down": {
        "zh-CN": "短信猫无响应",
        "en": "Modem not responding",
    },
    "admin.alert.queue_stalled": {
        "zh-CN": "发送队列停滞",
        "en": "Outbox stalled",
    },
    "admin.alert.cap_near": {
        "zh-CN": "接近发送上限",
        "en": "Near the sending cap",
    },
    "admin.alert.short_code": {
        "zh-CN": "运营商短信",
        "en": "Operator SMS",
    },
    "admin.handoff_heading": {
        "zh-CN": "转交问题",
        "en": "Hand-off",
    },
    "admin.handoff_hint": {
        "zh-CN": "离开的专家的全部未结问题转给同事；离开的专家不再接收问题。",
        "en": "Every open question of the leaving expert goes to a colleague; "
        "the leaving expert takes no more questions.",
    },
    "admin.handoff_from": {
        "zh-CN": "离开的专家",
        "en": "Leaving expert",
    },
    "admin.handoff_to": {
        "zh-CN": "接手的同事",
        "en": "Colleague",
    },
    "admin.handoff_button": {
        "zh-CN": "转交",
        "en": "Hand off",
    },
    "admin.handoff_done": {
        "zh-CN": "已转交{count}个问题。",
        "en": "{count} question(s) handed off.",
    },
    "admin.error.not_found": {
        "zh-CN": "找不到该短信或问题。",
        "en": "No such SMS or thread.",
    },
    "admin.error.assign_closed": {
        "zh-CN": "该问题已结束，不能再发布回复。",
        "en": "That thread is closed; no answer can be posted.",
    },
    "admin.error.assign_sender": {
        "zh-CN": "这条短信不是该问题的专家发来的。",
        "en": "That SMS is not from the thread's expert.",
    },
    "admin.error.assign_empty": {
        "zh-CN": "这条短信没有可发布的内容。",
        "en": "That SMS has nothing to post.",
    },
    "admin.error.handoff_target": {
        "zh-CN": "不能转交给该专家（同一人、助理或已离开）。",
        "en": "That colleague cannot take them (the same person, an assistant, or gone).",
    },
    "admin.error.bad_form": {
        "zh-CN": "请填写完整的表单。",
        "en": "Please fill in the form.",
    },
    "admin.setup_heading": {
        "zh-CN": "创建第一个管理员",
        "en": "Create the first administrator",
    },
    "admin.setup_intro": {
        "zh-CN": "此链接只能使用一次，创建的管理员仅在本次运行有效；"
        "请把生成的哈希写入 config.yaml。",
        "en": "This link works once; the administrator lasts for this run only. "
        "Paste the hash it shows into config.yaml.",
    },
    "admin.password_again": {
        "zh-CN": "再次输入密码",
        "en": "Password again",
    },
    "admin.setup_button": {
        "zh-CN": "创建",
        "en": "Create",
    },
    "admin.setup_done": {
        "zh-CN": "管理员已创建，您已登录。请把下面的内容加入 config.yaml，重启后依然有效：",
        "en": "The administrator is created and logged in. Add this to config.yaml "
        "so that it lasts after a restart:",
    },
    "admin.error.username_length": {
        "zh-CN": "用户名须为1到32个字符。",
        "en": "A username has 1 to 32 characters.",
    },
    "admin.error.password_short": {
        "zh-CN": "密码至少需要{min}个字符。",
        "en": "A password has at least {min} characters.",
    },
    "admin.error.password_mismatch": {
        "zh-CN": "两次输入的密码不一致。",
        "en": "The two passwords differ.",
    },
    "admin.back": {
        "zh-CN": "返回管理页",
        "en": "Back to the admin page",
    },
    # --- admin: the live dashboard ------------------------------------------------------------
    # --- admin: experts, moderation, statistics, the audit log ---------------------------------
    # --- the patient's thread: thanks, helpful, the link again by SMS ----------------------------
}


def placeholders(template: str) -> frozenset[str]:
    """The field names a template uses (``{code}`` twice counts once)."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


def render(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text ``key`` in ``lang`` with ``params`` filled in; extra params are ignored.

    Raises KeyError for an unknown key or language, ValueError naming a missing parameter.
    """
    try:
        by_lang = TEXTS[key]
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
