"""The web's own words: the patient's pages, the API's refusals, the admin pages, in every language.

Same shape as :mod:`smscat.relay.core.texts` (message id → language → template, the same
placeholders in every language) and rendered by its one checking renderer
(:func:`~smscat.relay.core.texts.render_in`): :func:`render` here is that, over :data:`TEXTS`.
Jinja templates get it as ``t``. What the web shows but the relay writes (a thread's notices,
a modem's ``block.*`` reason, the report's columns) stays in the relay's catalogue; a key lives
in one catalogue only (tests/relay/test_texts.py checks both).

``error.<key>`` is the refusal for a :class:`~smscat.relay.core.errors.RelayError` key,
``status.<status>`` a thread's status, ``page.*`` the patient's pages, ``admin.*`` the admin's.

It must never: contain a phone number (or any long digit run that looks like one), do I/O, or
put a parameter's value into an exception message (values are patient text and names).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from smscat.relay.core.texts import DEFAULT_LANG, LANGS, render_in, render_or_in

__all__ = ["DEFAULT_LANG", "LANGS", "TEXTS", "join", "render", "render_or"]

TEXTS: Final[dict[str, dict[str, str]]] = {
    "admin.notices_handled_button": {
        "zh-CN": "全部标记为已处理",
        "en": "Mark all handled",
    },
    "admin.notices_handled": {
        "zh-CN": "已标记{count}条短信为已处理。",
        "en": "{count} SMS marked handled.",
    },
    # --- a thread's status in words (the API's status_text, the pages, the dashboard) ------------
    "status.queued": {"zh-CN": "已提交，等待发送", "en": "Submitted, waiting to be sent"},
    "status.held": {"zh-CN": "医生暂不方便，稍后送达", "en": "Doctor unavailable, sent later"},
    "status.sent": {"zh-CN": "已发送给医生", "en": "Sent to the doctor"},
    "status.delivered": {"zh-CN": "已送达医生", "en": "Delivered to the doctor"},
    "status.answered": {"zh-CN": "医生已回复", "en": "The doctor has answered"},
    "status.closed": {"zh-CN": "已结束", "en": "Closed"},
    "status.failed": {"zh-CN": "暂未送达，正在处理", "en": "Not delivered yet, being handled"},
    "status.expired": {"zh-CN": "已过期，未获回复", "en": "Expired without an answer"},
    # --- errors the API and the pages show (``error.<key>`` of relay.core.errors) -------------
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
    "error.expert_phone": {
        "zh-CN": "这是专家的号码，请先在配置中移除这位专家。",
        "en": "This number belongs to an expert; remove the expert from the configuration first.",
    },
    # --- the patient's pages (web/board.py, web/thread_page.py, web/templates/) -----------
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
    },
    # --- a 随访 plan's page, behind the link in a step's SMS (/f/<token>) -----------------------
    "page.care.reply_by_sms": {
        "zh-CN": "如有问题或需要回答随访短信，请直接回复短信。",
        "en": "To answer the follow-up SMS or ask anything, please reply to the SMS directly.",
    },
    "page.care.gone_title": {"zh-CN": "随访页面不存在", "en": "Follow-up page not found"},
    "page.care.gone": {
        "zh-CN": "这个随访链接无效或已失效。如有问题，请直接回复短信。",
        "en": "This follow-up link is not valid or no longer works. Please reply to the SMS.",
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
    "admin.signal": {
        "zh-CN": "信号",
        "en": "Signal",
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
        "zh-CN": "24小时内已发（段）",
        "en": "Parts sent, last 24 h",
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
    "admin.thread_id": {
        "zh-CN": "问题编号（线程号）",
        "en": "Thread id",
    },
    "admin.assign_button": {
        "zh-CN": "作为专家回复发布",
        "en": "Post as the expert's answer",
    },
    "admin.from_expert": {"zh-CN": "{name}（专家）", "en": "{name} (expert)"},
    "admin.from_patient": {"zh-CN": "患者或未知号码 {number}", "en": "Patient or unknown {number}"},
    "admin.assign_to": {"zh-CN": "归入发件人的问题", "en": "Assign to the sender's question"},
    "admin.assign_pick": {"zh-CN": "选择问题…", "en": "Pick a question…"},
    "admin.assign_none": {
        "zh-CN": "发件人没有进行中的问题，无法归入。",
        "en": "The sender has no open question to assign it to.",
    },
    "admin.assign_followup_button": {
        "zh-CN": "作为患者追问发布",
        "en": "Post as the patient's follow-up",
    },
    "admin.assigned_followup": {
        "zh-CN": "已作为患者追问发布到问题{thread}。",
        "en": "Posted as the patient's follow-up on thread {thread}.",
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
        "zh-CN": "短信猫无法发送",
        "en": "Modem cannot send",
    },
    "admin.alert.sms_failed": {
        "zh-CN": "短信发送失败",
        "en": "SMS failed",
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
    "admin.summary": {
        "zh-CN": "概况",
        "en": "Summary",
    },
    "admin.all_well": {
        "zh-CN": "一切正常",
        "en": "All is well",
    },
    "admin.needs_attention": {
        "zh-CN": "需要处理",
        "en": "Needs attention",
    },
    "admin.tile_modems": {
        "zh-CN": "短信猫在线",
        "en": "Modems up",
    },
    "admin.tile_queued": {
        "zh-CN": "待发短信",
        "en": "SMS queued",
    },
    "admin.tile_waiting": {
        "zh-CN": "超时未答",
        "en": "Overdue questions",
    },
    "admin.tile_unmatched": {
        "zh-CN": "未匹配短信",
        "en": "Unmatched SMS",
    },
    "admin.updated": {
        "zh-CN": "更新于 {at}",
        "en": "Updated {at}",
    },
    "admin.bars": {
        "zh-CN": "信号 {n} 格",
        "en": "{n} of 4 bars",
    },
    "admin.sim": {
        "zh-CN": "SIM 卡",
        "en": "SIM",
    },
    "admin.last_contact": {
        "zh-CN": "最近通信",
        "en": "Last contact",
    },
    "admin.never": {
        "zh-CN": "从未",
        "en": "never",
    },
    "admin.port": {
        "zh-CN": "端口",
        "en": "Port",
    },
    "admin.model": {
        "zh-CN": "型号",
        "en": "Model",
    },
    "admin.recent_errors": {
        "zh-CN": "最近的错误",
        "en": "Recent errors",
    },
    "admin.virtual_phones": {
        "zh-CN": "打开虚拟手机",
        "en": "Open the virtual phones",
    },
    "admin.virtual_phones_hint": {
        "zh-CN": "（模拟短信猫：在本机浏览器中扮演专家和患者）",
        "en": "(simulated modem: play expert and patient in a browser on this machine)",
    },
    "admin.last_hour": {
        "zh-CN": "近一小时：发出 {parts} 段（{sent} 条），收到 {received} 条，失败 {failed} 条",
        "en": "Last hour: {parts} parts sent ({sent} SMS), {received} received, {failed} failed",
    },
    "admin.waiting_heading": {
        "zh-CN": "超过 {hours} 小时未回答",
        "en": "Unanswered for more than {hours} hours",
    },
    "admin.waiting_none": {
        "zh-CN": "没有超时未回答的问题。",
        "en": "No question is overdue.",
    },
    "admin.expert": {
        "zh-CN": "专家",
        "en": "Expert",
    },
    "admin.thread_status": {
        "zh-CN": "状态",
        "en": "Status",
    },
    "admin.waiting_since": {
        "zh-CN": "等待自",
        "en": "Waiting since",
    },
    "admin.hours": {
        "zh-CN": "{n} 小时",
        "en": "{n} h",
    },
    "admin.failed_heading": {
        "zh-CN": "发送失败的短信",
        "en": "SMS that failed",
    },
    "admin.failed_none": {
        "zh-CN": "没有发送失败的短信。",
        "en": "No SMS has failed.",
    },
    "admin.to": {
        "zh-CN": "发给",
        "en": "To",
    },
    "admin.failed_after": {
        "zh-CN": "尝试 {attempts} 次后失败：{error}",
        "en": "Failed after {attempts} attempt(s): {error}",
    },
    "admin.retry_button": {
        "zh-CN": "重新发送",
        "en": "Send again",
    },
    "admin.retried": {
        "zh-CN": "已重新放入发送队列。",
        "en": "Queued to be sent again.",
    },
    "admin.notices_heading": {
        "zh-CN": "运营商短信",
        "en": "Operator SMS",
    },
    "admin.notices_none": {
        "zh-CN": "最近 30 天没有运营商短信。",
        "en": "No operator SMS in the last 30 days.",
    },
    "admin.incomplete_heading": {
        "zh-CN": "缺少部分内容的短信",
        "en": "SMS with missing parts",
    },
    "admin.incomplete_hint": {
        "zh-CN": "长短信有部分内容未收到，已按收到的内容发布；迟到的部分到达后会自动补全。",
        "en": "Long SMS posted without a part that never arrived; a late part completes them.",
    },
    "admin.incomplete_none": {
        "zh-CN": "最近 {days} 天没有缺少部分内容的短信。",
        "en": "No SMS with missing parts in the last {days} days.",
    },
    "admin.incomplete_parts": {
        "zh-CN": "收到 {got}/{total} 条，缺第 {missing} 条",
        "en": "{got} of {total} parts; missing: {missing}",
    },
    "admin.incomplete_no_thread": {
        "zh-CN": "未发布到问题",
        "en": "not posted to a thread",
    },
    "admin.unknown_heading": {
        "zh-CN": "陌生号码的短信",
        "en": "SMS from unknown numbers",
    },
    "admin.unknown_hint": {
        "zh-CN": "既不发布也不回复；按号码保留期限删除。",
        "en": "Never posted and never answered; deleted when phone numbers are.",
    },
    "admin.unknown_none": {
        "zh-CN": "最近 {days} 天没有陌生号码的短信。",
        "en": "No SMS from unknown numbers in the last {days} days.",
    },
    "admin.live_ended": {
        "zh-CN": "登录已过期，请刷新页面重新登录。",
        "en": "Your session has ended: reload the page to log in again.",
    },
    "admin.live_offline": {
        "zh-CN": "实时更新已中断，正在重连…",
        "en": "Live updates interrupted; reconnecting…",
    },
    "admin.error.retry_closed": {
        "zh-CN": "该咨询已关闭，不再重发。",
        "en": "That thread is closed: the SMS is not sent again.",
    },
    "admin.error.retry_stopped": {
        "zh-CN": "该患者已退订或号码已删除，不再重发。",
        "en": "That patient has unsubscribed or been erased: the SMS is not sent again.",
    },
    "admin.error.retry_moved": {
        "zh-CN": "该短信的收件人已不负责此问题（已离开、已转交或已换号），不再重发。",
        "en": "That SMS's recipient no longer holds it (left, handed on or changed numbers).",
    },
    "admin.error.retry_code": {
        "zh-CN": "验证码短信不重发：验证码已过期，请患者重新获取。",
        "en": "A verification code is not sent again: it has expired; the patient asks anew.",
    },
    "admin.state.connecting": {
        "zh-CN": "连接中",
        "en": "connecting",
    },
    "admin.state.ready": {
        "zh-CN": "就绪",
        "en": "ready",
    },
    "admin.state.down": {
        "zh-CN": "断开",
        "en": "down",
    },
    "admin.state.sim-locked": {
        "zh-CN": "SIM 卡锁定",
        "en": "SIM locked",
    },
    "admin.reg.home": {
        "zh-CN": "已注册（本地）",
        "en": "registered (home)",
    },
    "admin.reg.roaming": {
        "zh-CN": "已注册（漫游）",
        "en": "registered (roaming)",
    },
    "admin.reg.searching": {
        "zh-CN": "正在搜索网络",
        "en": "searching",
    },
    "admin.reg.denied": {
        "zh-CN": "注册被拒绝",
        "en": "registration denied",
    },
    "admin.reg.unknown": {
        "zh-CN": "未知",
        "en": "unknown",
    },
    "admin.reg.not-registered": {
        "zh-CN": "未注册",
        "en": "not registered",
    },
    "admin.kind.verification": {
        "zh-CN": "验证码",
        "en": "verification code",
    },
    "admin.kind.to_patient": {
        "zh-CN": "发给患者",
        "en": "to a patient",
    },
    "admin.kind.to_expert": {
        "zh-CN": "发给专家",
        "en": "to an expert",
    },
    "admin.kind.notice": {
        "zh-CN": "通知",
        "en": "notice",
    },
    "admin.kind.care": {"zh-CN": "随访", "en": "follow-up plan"},
    # --- admin: experts, moderation, statistics, the audit log ---------------------------------
    "admin.nav_label": {"zh-CN": "管理页导航", "en": "Admin sections"},
    "admin.nav.dashboard": {"zh-CN": "概览", "en": "Overview"},
    "admin.nav.experts": {"zh-CN": "专家", "en": "Experts"},
    "admin.nav.threads": {"zh-CN": "问题管理", "en": "Threads"},
    "admin.nav.stats": {"zh-CN": "统计", "en": "Statistics"},
    "admin.nav.audit": {"zh-CN": "审计日志", "en": "Audit log"},
    # --- API tokens for machine clients (the hospital's systems): /admin/tokens, the guard -------
    "admin.nav.tokens": {"zh-CN": "接口令牌", "en": "API tokens"},
    "admin.tokens_heading": {"zh-CN": "接口令牌", "en": "API tokens"},
    "admin.tokens.intro": {
        "zh-CN": "医院的其他系统（如 HIS）用接口令牌调用本服务的接口，例如提交随访。",
        "en": "The hospital's other systems (such as the HIS) call this service's API with an "
        "API token, for example to submit follow-ups (随访).",
    },
    "admin.tokens.name": {"zh-CN": "名称", "en": "Name"},
    "admin.tokens.name_hint": {
        "zh-CN": "小写字母、数字和连字符，最多32个字符，例如 his。",
        "en": "Lower-case letters, digits and hyphens, at most 32, e.g. his.",
    },
    "admin.tokens.scopes": {"zh-CN": "权限", "en": "Scopes"},
    "admin.tokens.scope.followups": {"zh-CN": "提交随访", "en": "Submit follow-ups"},
    "admin.tokens.created": {"zh-CN": "创建时间", "en": "Created"},
    "admin.tokens.created_by": {"zh-CN": "创建者", "en": "Created by"},
    "admin.tokens.last_used": {"zh-CN": "最近使用", "en": "Last used"},
    "admin.tokens.state": {"zh-CN": "状态", "en": "State"},
    "admin.tokens.live": {"zh-CN": "有效", "en": "Live"},
    "admin.tokens.revoked_at": {"zh-CN": "已于{at}吊销", "en": "Revoked {at}"},
    "admin.tokens.never": {"zh-CN": "从未", "en": "Never"},
    "admin.tokens.none": {"zh-CN": "还没有接口令牌。", "en": "No API tokens yet."},
    "admin.tokens.create_heading": {"zh-CN": "新建令牌", "en": "New token"},
    "admin.tokens.create_button": {"zh-CN": "创建令牌", "en": "Create token"},
    "admin.tokens.revoke_button": {"zh-CN": "吊销", "en": "Revoke"},
    "admin.tokens.secret_heading": {
        "zh-CN": "令牌“{name}”已创建",
        "en": "Token {name} created",
    },
    "admin.tokens.secret_once": {
        "zh-CN": "请现在复制此令牌并妥善保存：它只显示这一次，之后无法再查看。",
        "en": "Copy this token now and keep it safe: it is shown this once and cannot be seen "
        "again.",
    },
    "admin.tokens.revoked_done": {
        "zh-CN": "令牌“{name}”已吊销。",
        "en": "Token {name} revoked.",
    },
    "admin.error.token_name": {
        "zh-CN": "名称须为小写字母、数字和连字符，以字母或数字开头，最多32个字符。",
        "en": "A name is lower-case letters, digits and hyphens, starting with a letter or "
        "digit, at most 32.",
    },
    "admin.error.token_scopes": {"zh-CN": "请至少选择一项权限。", "en": "Choose a scope at least."},
    "admin.error.token_scope_unknown": {"zh-CN": "没有这项权限。", "en": "No such scope."},
    "admin.error.token_name_taken": {
        "zh-CN": "这个名称已被使用（包括已吊销的令牌）。",
        "en": "That name is taken (revoked tokens keep theirs).",
    },
    "admin.error.token_not_found": {"zh-CN": "没有这个令牌。", "en": "No such token."},
    "admin.error.token_revoked": {
        "zh-CN": "这个令牌已经吊销。",
        "en": "This token is revoked already.",
    },
    "admin.audit.action.api_token.create": {"zh-CN": "创建接口令牌", "en": "API token created"},
    "admin.audit.action.api_token.revoke": {"zh-CN": "吊销接口令牌", "en": "API token revoked"},
    "error.status_401": {"zh-CN": "需要身份验证。", "en": "Authentication required."},
    "error.token_missing": {
        "zh-CN": "缺少接口令牌：请在 Authorization 头中以 Bearer 方式提供。",
        "en": "An API token is required: send it as Authorization: Bearer.",
    },
    "error.token_invalid": {
        "zh-CN": "接口令牌无效或已被吊销。",
        "en": "The API token is not valid or has been revoked.",
    },
    "error.token_scope": {
        "zh-CN": "此接口令牌无权进行这项操作。",
        "en": "This API token may not do this.",
    },
    "error.token_name": {
        "zh-CN": "令牌名称须为小写字母、数字和连字符，以字母或数字开头，最多32个字符。",
        "en": "A token's name is lower-case letters, digits and hyphens, starting with a letter "
        "or digit, at most 32.",
    },
    "error.token_scopes": {
        "zh-CN": "请至少给出一项权限（--scope）。",
        "en": "Give a scope at least (--scope).",
    },
    "error.token_scope_unknown": {"zh-CN": "没有这项权限。", "en": "No such scope."},
    "error.token_name_taken": {
        "zh-CN": "这个令牌名称已被使用（包括已吊销的令牌）。",
        "en": "That token name is taken (revoked tokens keep theirs).",
    },
    "error.token_not_found": {"zh-CN": "没有这个令牌。", "en": "No such token."},
    "error.token_revoked": {"zh-CN": "这个令牌已经吊销。", "en": "This token is revoked already."},
    "admin.experts_heading": {"zh-CN": "专家与助理", "en": "Experts and assistants"},
    "admin.experts_none": {"zh-CN": "还没有专家。", "en": "No experts yet."},
    "admin.expert_add_link": {"zh-CN": "添加专家或助理", "en": "Add an expert or assistant"},
    "admin.expert.id": {"zh-CN": "编号", "en": "ID"},
    "admin.expert.name": {"zh-CN": "姓名", "en": "Name"},
    "admin.expert.title": {"zh-CN": "职称", "en": "Title"},
    "admin.expert.department": {"zh-CN": "科室", "en": "Department"},
    "admin.expert.specialty": {"zh-CN": "专长", "en": "Specialty"},
    "admin.expert.phone": {"zh-CN": "手机号", "en": "Mobile number"},
    "admin.expert.role": {"zh-CN": "角色", "en": "Role"},
    "admin.expert.role.expert": {"zh-CN": "专家", "en": "Expert"},
    "admin.expert.role.assistant": {"zh-CN": "助理", "en": "Assistant"},
    "admin.expert.assistant": {"zh-CN": "助理", "en": "Assistant"},
    "admin.expert.assistant_none": {"zh-CN": "无", "en": "None"},
    "admin.expert.quiet_hours": {"zh-CN": "免打扰时段", "en": "Quiet hours"},
    "admin.expert.daily_cap": {"zh-CN": "每日上限", "en": "Daily cap"},
    "admin.expert.no_cap": {"zh-CN": "不限", "en": "No cap"},
    "admin.expert.none": {"zh-CN": "无", "en": "None"},
    "admin.expert.confirm_replies": {
        "zh-CN": "每次回复后发送确认短信",
        "en": "Confirm each reply by SMS",
    },
    "admin.expert.digest": {"zh-CN": "每周摘要短信", "en": "Weekly digest SMS"},
    "admin.expert.state": {"zh-CN": "状态", "en": "State"},
    "admin.expert.open_threads": {"zh-CN": "未结束问题", "en": "Open threads"},
    "admin.expert.active": {"zh-CN": "在岗", "en": "Active"},
    "admin.expert.left": {"zh-CN": "已离开（{at}）", "en": "Left ({at})"},
    "admin.expert.paused_until": {"zh-CN": "暂停至{until}", "en": "Paused until {until}"},
    "admin.expert.paused_forever": {"zh-CN": "暂停中，直到恢复", "en": "Paused until resumed"},
    "admin.expert.yes": {"zh-CN": "是", "en": "Yes"},
    "admin.expert.no": {"zh-CN": "否", "en": "No"},
    "admin.expert.manage_link": {"zh-CN": "管理", "en": "Manage"},
    "admin.expert.id_hint": {
        "zh-CN": "小写字母、数字、-和_，最多32个字符；添加后不能更改。",
        "en": "Lower-case letters, digits, - and _, up to 32; it cannot change later.",
    },
    "admin.expert.phone_hint_add": {
        "zh-CN": "只用于收发短信；页面上只显示尾号。",
        "en": "Used for SMS only; pages show its last four digits.",
    },
    "admin.expert.phone_hint_edit": {
        "zh-CN": "当前号码：{masked}。留空则不变。",
        "en": "Current number: {masked}. Leave empty to keep it.",
    },
    "admin.expert.phone_again": {
        "zh-CN": "为保护隐私，号码不会回显，请重新输入。",
        "en": "For privacy the number is not shown again: please type it again.",
    },
    "admin.expert.quiet_hours_hint": {
        "zh-CN": "例如 22:00-07:30, 12:00-13:30；多个时段用逗号分隔，留空表示没有。",
        "en": "E.g. 22:00-07:30, 12:00-13:30; commas between windows; empty for none.",
    },
    "admin.expert.daily_cap_hint": {
        "zh-CN": "每天最多收到的新问题数；留空表示不限。",
        "en": "New questions a day at most; empty for no cap.",
    },
    "admin.expert.config_owned": {
        "zh-CN": "以下字段仍由 config.yaml 设置：{fields}。在这里修改后，重启不会覆盖。",
        "en": "config.yaml still sets: {fields}. What you edit here is kept after a restart.",
    },
    "admin.expert.config_none": {
        "zh-CN": "此人的资料不由 config.yaml 设置。",
        "en": "config.yaml sets nothing of this person.",
    },
    "admin.expert_add_heading": {"zh-CN": "添加专家或助理", "en": "Add an expert or assistant"},
    "admin.expert_edit_heading": {"zh-CN": "管理：{name}", "en": "Manage: {name}"},
    "admin.expert_add_button": {"zh-CN": "添加", "en": "Add"},
    "admin.expert_save_button": {"zh-CN": "保存", "en": "Save"},
    "admin.expert_added": {
        "zh-CN": "已添加{name}，欢迎短信将发到其手机。",
        "en": "{name} is added; a welcome SMS goes to their phone.",
    },
    "admin.expert_saved": {"zh-CN": "已保存。", "en": "Saved."},
    "admin.expert_unchanged": {"zh-CN": "没有需要保存的修改。", "en": "Nothing changed."},
    "admin.pause_heading": {"zh-CN": "暂停接收新问题", "en": "Pause new questions"},
    "admin.pause_hours": {"zh-CN": "暂停小时数", "en": "Hours"},
    "admin.pause_hint": {
        "zh-CN": "留空表示直到恢复。此人会收到短信通知，也可回复“恢复”提前恢复。",
        "en": "Empty: until resumed. They are told by SMS and may reply RESUME themselves.",
    },
    "admin.pause_button": {"zh-CN": "暂停", "en": "Pause"},
    "admin.paused_done": {"zh-CN": "已暂停。", "en": "Paused."},
    "admin.resume_heading": {"zh-CN": "恢复接收新问题", "en": "Resume new questions"},
    "admin.resume_button": {"zh-CN": "恢复", "en": "Resume"},
    "admin.resumed_done": {
        "zh-CN": "已恢复，暂停期间的问题将陆续发出。",
        "en": "Resumed; the questions held go out now.",
    },
    "admin.leave_heading": {"zh-CN": "离开并转交", "en": "Leave and hand off"},
    "admin.leave_hint": {
        "zh-CN": "所有未结束的问题转给所选同事，同事会收到一条短信；此人将从咨询页面移除。",
        "en": "Every open thread goes to the colleague chosen, who gets one SMS; "
        "this person leaves the board.",
    },
    "admin.leave_to": {"zh-CN": "接手的同事", "en": "Colleague"},
    "admin.leave_button": {"zh-CN": "离开并转交", "en": "Leave and hand off"},
    "admin.left_done": {
        "zh-CN": "{name}已离开，{count}个问题已转交。",
        "en": "{name} has left; {count} thread(s) handed off.",
    },
    "admin.no_colleague": {"zh-CN": "没有可以接手的同事。", "en": "No colleague can take them."},
    "admin.status.queued": {"zh-CN": "排队中", "en": "Queued"},
    "admin.status.held": {"zh-CN": "暂缓发送", "en": "Held"},
    "admin.status.sent": {"zh-CN": "已发送", "en": "Sent"},
    "admin.status.delivered": {"zh-CN": "已送达", "en": "Delivered"},
    "admin.status.answered": {"zh-CN": "已回复", "en": "Answered"},
    "admin.status.closed": {"zh-CN": "已结束", "en": "Closed"},
    "admin.status.failed": {"zh-CN": "发送失败", "en": "Failed"},
    "admin.status.expired": {"zh-CN": "已过期", "en": "Expired"},
    "admin.threads_heading": {"zh-CN": "问题管理", "en": "Threads"},
    "admin.threads.expert": {"zh-CN": "专家", "en": "Expert"},
    "admin.threads.all": {"zh-CN": "全部", "en": "All"},
    "admin.threads.status": {"zh-CN": "状态", "en": "Status"},
    "admin.threads.search": {"zh-CN": "问题编号", "en": "Thread number"},
    "admin.threads.filter_button": {"zh-CN": "筛选", "en": "Filter"},
    "admin.threads.total": {"zh-CN": "共{total}个问题", "en": "{total} thread(s)"},
    "admin.threads.none": {"zh-CN": "没有符合条件的问题。", "en": "No thread matches."},
    "admin.threads.id": {"zh-CN": "编号", "en": "No."},
    "admin.threads.nickname": {"zh-CN": "昵称", "en": "Nickname"},
    "admin.threads.question": {"zh-CN": "问题", "en": "Question"},
    "admin.threads.asked_at": {"zh-CN": "提问时间", "en": "Asked"},
    "admin.threads.messages": {"zh-CN": "消息数", "en": "Messages"},
    "admin.threads.visibility": {"zh-CN": "公开", "en": "Visibility"},
    "admin.threads.public": {"zh-CN": "公开", "en": "Public"},
    "admin.threads.private": {"zh-CN": "不公开", "en": "Private"},
    "admin.threads.hidden": {"zh-CN": "已隐藏", "en": "Hidden"},
    "admin.threads.hide_button": {"zh-CN": "隐藏", "en": "Hide"},
    "admin.threads.unhide_button": {"zh-CN": "取消隐藏", "en": "Show again"},
    "admin.threads.hidden_done": {
        "zh-CN": "问题{id}已从公开页面隐藏。",
        "en": "Thread {id} is hidden from the public pages.",
    },
    "admin.threads.shown_done": {
        "zh-CN": "问题{id}已重新在公开页面显示。",
        "en": "Thread {id} is shown on the public pages again.",
    },
    "admin.prev_page": {"zh-CN": "上一页", "en": "Previous"},
    "admin.next_page": {"zh-CN": "下一页", "en": "Next"},
    "admin.page_of": {"zh-CN": "第{page}页，共{pages}页", "en": "Page {page} of {pages}"},
    "admin.stats_heading": {"zh-CN": "统计：{month}", "en": "Statistics: {month}"},
    "admin.stats.month": {"zh-CN": "月份", "en": "Month"},
    "admin.stats.show_button": {"zh-CN": "查看", "en": "Show"},
    "admin.stats.prev": {"zh-CN": "上个月", "en": "Previous month"},
    "admin.stats.next": {"zh-CN": "下个月", "en": "Next month"},
    "admin.stats.download": {
        "zh-CN": "下载 CSV（可用 Excel 打开）",
        "en": "Download CSV (for Excel)",
    },
    "admin.stats.hint": {
        "zh-CN": "与 smscat report 的数字相同；时间按 {zone} 计算。",
        "en": "The figures of smscat report, in {zone} time.",
    },
    "admin.stats.care_heading": {"zh-CN": "随访", "en": "Follow-up plans (随访)"},
    "admin.stats.care_download": {
        "zh-CN": "下载随访 CSV（可用 Excel 打开）",
        "en": "Download the follow-up CSV (for Excel)",
    },
    "admin.stats.care_hint": {
        "zh-CN": "按入组月份统计：本月入组的患者，其后的送达、回复、预警与结束都计入本月。",
        "en": "By month of enrolment: the patients enrolled this month, with everything that "
        "happened to them since (delivered, replied, red flags, ended).",
    },
    "admin.audit_heading": {"zh-CN": "审计日志", "en": "Audit log"},
    "admin.audit.action": {"zh-CN": "操作", "en": "Action"},
    "admin.audit.all_actions": {"zh-CN": "全部操作", "en": "All actions"},
    "admin.audit.actor": {"zh-CN": "操作者", "en": "Actor"},
    "admin.audit.subject": {"zh-CN": "对象", "en": "Subject"},
    "admin.audit.from": {"zh-CN": "起始日期", "en": "From"},
    "admin.audit.to": {"zh-CN": "截止日期", "en": "To"},
    "admin.audit.at": {"zh-CN": "时间", "en": "Time"},
    "admin.audit.detail": {"zh-CN": "详情", "en": "Detail"},
    "admin.audit.filter_button": {"zh-CN": "筛选", "en": "Filter"},
    "admin.audit.total": {"zh-CN": "共{total}条记录", "en": "{total} entries"},
    "admin.audit.none": {"zh-CN": "没有符合条件的记录。", "en": "No entry matches."},
    "admin.audit.dates_hint": {
        "zh-CN": "日期按 {zone} 当地时间。",
        "en": "Dates are local to {zone}.",
    },
    # the audit log in words: what happened, who did it, to what (never a number)
    "admin.audit.action.admin.locked": {
        "zh-CN": "管理员登录被暂时锁定",
        "en": "Admin login locked for a while",
    },
    "admin.audit.action.admin.login": {"zh-CN": "管理员登录", "en": "Admin logged in"},
    "admin.audit.action.admin.login_failed": {
        "zh-CN": "管理员登录失败",
        "en": "Admin login failed",
    },
    "admin.audit.action.admin.logout": {"zh-CN": "管理员退出", "en": "Admin logged out"},
    "admin.audit.action.admin.setup": {"zh-CN": "创建第一个管理员", "en": "First admin created"},
    "admin.audit.action.alert": {
        "zh-CN": "问题需要管理员关注",
        "en": "A question needs the admins",
    },
    "admin.audit.action.digest.queued": {
        "zh-CN": "每周汇总短信已排队",
        "en": "Weekly digest SMS queued",
    },
    "admin.audit.action.expert.add": {
        "zh-CN": "在管理页添加专家",
        "en": "Expert added on the admin page",
    },
    "admin.audit.action.expert.edit": {
        "zh-CN": "在管理页修改专家",
        "en": "Expert edited on the admin page",
    },
    "admin.audit.action.expert.handoff": {
        "zh-CN": "专家的问题转给同事",
        "en": "Expert's questions handed to a colleague",
    },
    "admin.audit.action.expert.insert": {
        "zh-CN": "从配置文件添加专家",
        "en": "Expert added from the config file",
    },
    "admin.audit.action.expert.pause": {"zh-CN": "专家暂停接收问题", "en": "Expert paused"},
    "admin.audit.action.expert.resume": {"zh-CN": "专家恢复接收问题", "en": "Expert resumed"},
    "admin.audit.action.expert.update": {
        "zh-CN": "按配置文件更新专家",
        "en": "Expert updated from the config file",
    },
    "admin.audit.action.inbound.assign": {
        "zh-CN": "管理员把短信归入问题",
        "en": "SMS assigned to a question by an admin",
    },
    "admin.audit.action.inbound.completed": {
        "zh-CN": "长短信的缺失部分已到",
        "en": "A long SMS's missing part arrived",
    },
    "admin.audit.action.inbound.late_part": {
        "zh-CN": "长短信的部分迟到",
        "en": "A long SMS's part arrived late",
    },
    "admin.audit.action.notices.handled": {
        "zh-CN": "运营商和未知号码的短信已处理",
        "en": "Operator and unknown-number SMS handled",
    },
    "admin.audit.action.phone.start": {
        "zh-CN": "患者重新开通短信",
        "en": "Patient turned SMS back on",
    },
    "admin.audit.action.phone.stop": {"zh-CN": "患者退订短信", "en": "Patient unsubscribed"},
    "admin.audit.action.retention.erase": {
        "zh-CN": "按要求删除号码",
        "en": "Number erased on request",
    },
    "admin.audit.action.retention.purge": {
        "zh-CN": "定期清理过期数据",
        "en": "Expired data purged",
    },
    "admin.audit.action.sms.duplicate_skipped": {
        "zh-CN": "重复的通知短信未发",
        "en": "Repeated notice not sent",
    },
    "admin.audit.action.sms.failed": {"zh-CN": "短信发送失败", "en": "SMS failed"},
    "admin.audit.action.sms.refused": {
        "zh-CN": "不允许发送的短信未排队",
        "en": "SMS not queued (not allowed)",
    },
    "admin.audit.action.sms.retry": {"zh-CN": "管理员重发短信", "en": "SMS sent again by an admin"},
    "admin.audit.action.thread.escalate": {
        "zh-CN": "助手转给医生本人",
        "en": "Assistant passed it to the doctor",
    },
    "admin.audit.action.thread.helpful": {
        "zh-CN": "患者评价回复是否有帮助",
        "en": "Patient rated the answer",
    },
    "admin.audit.action.thread.hide": {"zh-CN": "从公开问答中隐藏", "en": "Hidden from the board"},
    "admin.audit.action.thread.link_sms": {
        "zh-CN": "患者要求短信发送链接",
        "en": "Patient asked for the link by SMS",
    },
    "admin.audit.action.thread.thank": {"zh-CN": "患者致谢", "en": "Patient said thanks"},
    "admin.audit.action.thread.transfer": {
        "zh-CN": "医生转给助手",
        "en": "Doctor passed it to the assistant",
    },
    "admin.audit.action.thread.unhide": {
        "zh-CN": "在公开问答中重新显示",
        "en": "Shown on the board again",
    },
    "admin.audit.action.verification.withheld": {
        "zh-CN": "验证码未发（发送过于频繁）",
        "en": "Verification code withheld",
    },
    "admin.audit.who.patient": {"zh-CN": "患者", "en": "A patient"},
    "admin.audit.who.relay": {"zh-CN": "系统", "en": "The relay"},
    "admin.audit.who.digest": {"zh-CN": "每周汇总", "en": "Weekly digest"},
    "admin.audit.who.config": {"zh-CN": "配置文件", "en": "The config file"},
    "admin.audit.who.retention": {"zh-CN": "定期清理", "en": "Retention"},
    "admin.audit.who.web": {"zh-CN": "登录页（未知用户名）", "en": "Login page (unknown name)"},
    "admin.audit.who.cli": {"zh-CN": "命令行", "en": "Command line"},
    "admin.audit.who.admin": {"zh-CN": "管理员 {name}", "en": "Admin {name}"},
    "admin.audit.who.expert": {"zh-CN": "{name}（专家）", "en": "{name} (expert)"},
    "admin.audit.what.thread": {"zh-CN": "问题 {code}（{name}）", "en": "Question {code} ({name})"},
    "admin.audit.what.thread_gone": {
        "zh-CN": "问题（编号 {id}，已删除）",
        "en": "Question (no. {id}, deleted)",
    },
    "admin.audit.what.phone": {
        "zh-CN": "一位患者的号码（编号 {id}）",
        "en": "A patient's number (no. {id})",
    },
    "admin.audit.what.inbound": {
        "zh-CN": "收到的短信（编号 {id}）",
        "en": "SMS received (no. {id})",
    },
    "admin.audit.what.outbox": {"zh-CN": "发出的短信（编号 {id}）", "en": "SMS sent (no. {id})"},
    "admin.audit.what.admin": {"zh-CN": "管理员 {name}", "en": "Admin {name}"},
    "admin.audit.what.verification": {
        "zh-CN": "验证码（编号 {id}）",
        "en": "Verification code (no. {id})",
    },
    "admin.error.form_invalid": {
        "zh-CN": "请更正下面标出的内容。",
        "en": "Please correct the fields marked below.",
    },
    "admin.error.expert": {"zh-CN": "找不到该专家。", "en": "No such expert."},
    "admin.error.expert_id": {
        "zh-CN": "编号须以小写字母或数字开头，只含小写字母、数字、-和_，最多32个字符。",
        "en": "An ID starts with a lower-case letter or a digit and has only a-z, 0-9, - and _ "
        "(up to 32).",
    },
    "admin.error.id_taken": {"zh-CN": "这个编号已被使用。", "en": "That ID is taken."},
    "admin.error.name": {"zh-CN": "姓名须为1到40个字符。", "en": "A name has 1 to 40 characters."},
    "admin.error.title": {
        "zh-CN": "职称须为1到40个字符。",
        "en": "A title has 1 to 40 characters.",
    },
    "admin.error.department": {
        "zh-CN": "科室须为1到60个字符。",
        "en": "A department has 1 to 60 characters.",
    },
    "admin.error.specialty": {
        "zh-CN": "专长最多200个字符。",
        "en": "A specialty has at most 200 characters.",
    },
    "admin.error.phone": {
        "zh-CN": "请填写有效的手机号码（不能是短号码）。",
        "en": "Enter a valid mobile number (not a short code).",
    },
    "admin.error.phone_taken": {
        "zh-CN": "这个号码已属于另一位专家或助理。",
        "en": "That number belongs to another expert or assistant.",
    },
    "admin.error.role": {
        "zh-CN": "角色只能是专家或助理。",
        "en": "The role is expert or assistant.",
    },
    "admin.error.assistant": {
        "zh-CN": "助理须是另一位在岗、角色为助理的人员。",
        "en": "The assistant must be someone else, present, with the role assistant.",
    },
    "admin.error.assistant_of_assistant": {
        "zh-CN": "助理不能再指定自己的助理。",
        "en": "An assistant cannot have an assistant.",
    },
    "admin.error.role_in_use": {
        "zh-CN": "仍有专家指定此人为助理，不能改为专家。",
        "en": "Experts still name this person as their assistant.",
    },
    "admin.error.role_busy": {
        "zh-CN": "此人还有未结束的问题，请先转交，再改为助理。",
        "en": "This expert still has open threads: hand them off first.",
    },
    "admin.error.quiet_hours": {
        "zh-CN": "免打扰时段的格式如 22:00-07:30，多个时段用逗号分隔。",
        "en": "Quiet hours look like 22:00-07:30, with commas between windows.",
    },
    "admin.error.daily_cap": {
        "zh-CN": "每日上限须为0到1000的整数；留空表示不限。",
        "en": "A daily cap is a whole number from 0 to 1000; empty for no cap.",
    },
    "admin.error.pause_hours": {
        "zh-CN": "暂停时长须为1到720的整数小时；留空表示直到恢复。",
        "en": "Pause for 1 to 720 whole hours; empty for until resumed.",
    },
    "admin.error.colleague_required": {
        "zh-CN": "请选择接手的同事。",
        "en": "Choose the colleague who takes the threads.",
    },
    "admin.error.already_left": {"zh-CN": "此人已经离开。", "en": "This person has left."},
    "admin.error.not_paused": {"zh-CN": "此人目前没有暂停。", "en": "This person is not paused."},
    "admin.error.assistant_busy": {
        "zh-CN": "这位助理仍被专家指定或仍在处理问题：请先在专家资料中取消指定。",
        "en": "Experts still name this assistant, or it still holds threads: "
        "change the experts first.",
    },
    "admin.error.thread_private": {
        "zh-CN": "不公开的问题本来就不在公开页面上。",
        "en": "A private thread is not on the public pages anyway.",
    },
    "admin.error.status": {"zh-CN": "请选择有效的状态。", "en": "Choose a valid status."},
    "admin.error.thread_search": {
        "zh-CN": "问题编号只能是数字。",
        "en": "A thread number has digits only.",
    },
    "admin.error.month": {
        "zh-CN": "月份的格式为 YYYY-MM，例如 2026-11。",
        "en": "A month is written YYYY-MM, e.g. 2026-11.",
    },
    "admin.error.date": {
        "zh-CN": "日期的格式为 YYYY-MM-DD，例如 2026-11-23。",
        "en": "A date is written YYYY-MM-DD, e.g. 2026-11-23.",
    },
    "admin.error.date_order": {
        "zh-CN": "截止日期不能早于起始日期。",
        "en": "The end date cannot be before the start date.",
    },
    # --- the patient's thread: thanks, helpful, the link again by SMS ----------------------------
    "page.feedback_heading": {"zh-CN": "这个回答有帮助吗？", "en": "Was this answer helpful?"},
    "page.helpful_yes": {"zh-CN": "有帮助", "en": "Helpful"},
    "page.helpful_no": {"zh-CN": "没有帮助", "en": "Not helpful"},
    "page.helpful_saved": {"zh-CN": "感谢您的反馈。", "en": "Thank you for your feedback."},
    "page.thank": {"zh-CN": "感谢医生", "en": "Thank the doctor"},
    "page.thanked": {"zh-CN": "已感谢医生", "en": "You thanked the doctor"},
    "page.thank_hint": {
        "zh-CN": "不会发短信打扰医生，您的感谢会计入医生的每周汇总。",
        "en": "The doctor gets no SMS for it; your thanks count in their weekly summary.",
    },
    "page.link_sms": {"zh-CN": "把链接发到我的手机", "en": "Send the link to my phone"},
    "page.link_sms_hint": {
        "zh-CN": "将向您提问时验证的手机发送一个新链接，原链接仍然有效。",
        "en": "A new link goes to the phone you verified; this link keeps working.",
    },
    "page.link_sms_sent": {
        "zh-CN": "链接短信将很快发到您的手机。",
        "en": "The SMS with the link will reach your phone shortly.",
    },
    "page.links_heading": {"zh-CN": "找回我的咨询链接", "en": "Find my question links"},
    "page.links_phone": {"zh-CN": "提问时验证的手机号", "en": "The mobile number you verified"},
    "page.links_hint": {
        "zh-CN": "我们会把您的咨询链接用短信发到这个号码（每天最多{count}次）。",
        "en": "We send the links to your questions to this number by SMS (at most {count} a day).",
    },
    "page.links_submit": {"zh-CN": "发送链接短信", "en": "Send the links"},
    "page.links_sent": {
        "zh-CN": "如果该号码在本站有咨询，链接短信将很快发出。",
        "en": "If this number has questions here, an SMS with the links will be sent shortly.",
    },
    "error.not_answered": {
        "zh-CN": "医生回复后才能评价或感谢。",
        "en": "You can rate or thank once the doctor has answered.",
    },
    "error.helpful_choice": {
        "zh-CN": "请选择有帮助或没有帮助。",
        "en": "Please choose helpful or not helpful.",
    },
    "error.no_phone": {
        "zh-CN": "这个咨询没有可接收短信的手机号。",
        "en": "This question has no mobile number that takes SMS.",
    },
    "error.links_per_day": {
        "zh-CN": "链接短信发送次数已达上限，请明天再试。",
        "en": "Too many SMS with links for now; please try again tomorrow.",
    },
    # --- a per-client limit (web/limits.py); codes only where they belong ------------------------
    "page.error_429_title": {"zh-CN": "操作过于频繁", "en": "Too many requests"},
    "page.error_429": {
        "zh-CN": "操作过于频繁，请稍后再试。",
        "en": "Too many requests; please try again later.",
    },
    "page.retry_after": {
        "zh-CN": "请约{minutes}分钟后再试。",
        "en": "Please try again in about {minutes} minutes.",
    },
    "error.too_many_asks": {
        "zh-CN": "您所在的网络提问过于频繁，请稍后再试。",
        "en": "Too many questions from your network; please try again later.",
    },
    "error.too_many_followups": {
        "zh-CN": "您所在的网络追问过于频繁，请稍后再试。",
        "en": "Too many follow-ups from your network; please try again later.",
    },
    "error.too_many_codes": {
        "zh-CN": "您所在的网络获取验证码过于频繁，请稍后再试。",
        "en": "Too many codes requested from your network; please try again later.",
    },
    "error.too_many_links": {
        "zh-CN": "您所在的网络发送链接短信过于频繁，请稍后再试。",
        "en": "Too many SMS with links requested from your network; please try again later.",
    },
    "error.phone_stopped": {
        "zh-CN": "此号码已退订本服务的短信，收不到验证码。"
        "如需恢复，请用此手机向本服务号码发送“开通”后再获取。",
        "en": "This number has unsubscribed from our SMS. To get codes again, text START from "
        "this phone to the number our SMS came from, then try again.",
    },
    "error.phone_country": {
        "zh-CN": "验证码只发往本服务支持的国家和地区的手机号码（默认为中国大陆手机号）。",
        "en": "Codes go only to mobile numbers of the countries this service serves (mainland "
        "China unless configured otherwise).",
    },
    "error.phone_not_mobile": {
        "zh-CN": "验证码只能发到手机，请填写手机号码，不能是固定电话。",
        "en": "Codes go to mobile phones only: please enter a mobile number, not a landline.",
    },
    # --- 随访 (care): the admin's page, its plan editor, the dashboard's block ------------------
    "admin.nav.care": {"zh-CN": "随访", "en": "Follow-up"},
    "admin.care.heading": {"zh-CN": "随访", "en": "Follow-up care"},
    "admin.care.escalations_heading": {"zh-CN": "随访预警", "en": "Red flags"},
    "admin.care.escalations_hint": {
        "zh-CN": "患者的回复需要关注。联系患者后请点“已处理”；"
        "到截止时间仍未处理的，会转给下一位负责人。",
        "en": "A patient's reply needs attention. Mark it handled once you have been in touch; "
        "one still open at its deadline goes to the next person on the rota.",
    },
    "admin.care.overdue": {"zh-CN": "已超时", "en": "Overdue"},
    "admin.care.unheld": {"zh-CN": "无人负责", "en": "Nobody holds it"},
    "admin.care.answered": {"zh-CN": "选择：{answer}", "en": "Chose: {answer}"},
    "admin.care.keywords": {"zh-CN": "关键词：{words}", "en": "Red-flag words: {words}"},
    "admin.care.holder": {"zh-CN": "负责人", "en": "Held by"},
    "admin.care.nobody": {"zh-CN": "无人负责，请尽快处理", "en": "Nobody: please act now"},
    "admin.care.deadline": {"zh-CN": "处理截止", "en": "Due by"},
    "admin.care.raised": {"zh-CN": "预警时间", "en": "Raised"},
    "admin.care.phone": {"zh-CN": "手机号码", "en": "Mobile number"},
    "admin.care.show_number": {"zh-CN": "显示号码", "en": "Show number"},
    "admin.care.number_erased": {"zh-CN": "已删除", "en": "Erased"},
    "admin.care.ack_button": {"zh-CN": "已处理", "en": "Handled"},
    "admin.care.no_escalations": {
        "zh-CN": "目前没有待处理的预警。",
        "en": "No red flags to handle.",
    },
    "admin.care.more": {"zh-CN": "另有{count}条未显示。", "en": "{count} more not shown."},
    "admin.care.calls_heading": {"zh-CN": "待电话回访", "en": "Patients to call"},
    "admin.care.calls_hint": {
        "zh-CN": "这些患者对随访短信和提醒都没有回复，请电话联系。",
        "en": "These patients answered neither the SMS nor its reminder: please call them.",
    },
    "admin.care.step_day": {"zh-CN": "第{day}天", "en": "Day {day}"},
    "admin.care.listed": {"zh-CN": "列入时间", "en": "Listed"},
    "admin.care.call_done_button": {"zh-CN": "已致电", "en": "Called"},
    "admin.care.no_calls": {
        "zh-CN": "目前没有需要电话回访的患者。",
        "en": "Nobody to call.",
    },
    "admin.care.enrol_heading": {"zh-CN": "登记一位患者", "en": "Enrol a patient"},
    "admin.care.phone_again": {
        "zh-CN": "请重新输入手机号码。",
        "en": "Please type the number again.",
    },
    "admin.care.nickname": {"zh-CN": "称呼", "en": "Name to use"},
    "admin.care.nickname_example": {"zh-CN": "如：张先生", "en": "e.g. Mr Zhang"},
    "admin.care.anchor": {"zh-CN": "出院/就诊日期", "en": "Discharge or visit date"},
    "admin.care.plan": {"zh-CN": "随访计划", "en": "Plan"},
    "admin.care.doctor": {"zh-CN": "主管医生", "en": "Doctor"},
    "admin.care.doctor_none": {"zh-CN": "（不指定）", "en": "(none)"},
    "admin.care.consent": {"zh-CN": "患者同意方式", "en": "How the patient agreed"},
    "admin.care.consent_choose": {"zh-CN": "请选择", "en": "Choose"},
    "admin.care.consent.verbal": {"zh-CN": "口头同意", "en": "Verbally"},
    "admin.care.consent.written": {"zh-CN": "书面同意", "en": "In writing"},
    "admin.care.consent.electronic": {"zh-CN": "电子确认", "en": "Electronically"},
    "admin.care.enrol_hint": {
        "zh-CN": "登记前请征得患者同意接收随访短信；患者回复“TD”即可退订。",
        "en": "Ask the patient's consent to follow-up SMS before enrolling; "
        "replying TD stops them.",
    },
    "admin.care.enrol_button": {"zh-CN": "登记", "en": "Enrol"},
    "admin.care.plans": {"zh-CN": "随访计划：", "en": "Plans:"},
    "admin.care.enrolments_heading": {"zh-CN": "已登记的患者", "en": "Enrolled patients"},
    "admin.care.total": {"zh-CN": "共{total}人次", "en": "{total} enrolment(s)"},
    "admin.care.status": {"zh-CN": "状态", "en": "Status"},
    "admin.care.status.active": {"zh-CN": "进行中", "en": "Active"},
    "admin.care.status.paused": {"zh-CN": "已暂停", "en": "Paused"},
    "admin.care.status.completed": {"zh-CN": "已完成", "en": "Completed"},
    "admin.care.status.cancelled": {"zh-CN": "已结束", "en": "Ended"},
    "admin.care.next": {"zh-CN": "下一步", "en": "Next step"},
    "admin.care.cancel_button": {"zh-CN": "取消随访", "en": "Cancel"},
    "admin.care.no_enrolments": {"zh-CN": "还没有登记的患者。", "en": "No one enrolled yet."},
    "admin.care.reason.readmitted": {"zh-CN": "再次住院", "en": "Readmitted"},
    "admin.care.reason.deceased": {"zh-CN": "患者已故", "en": "Deceased"},
    "admin.care.reason.opted_out": {"zh-CN": "不再随访", "en": "Opted out"},
    "admin.care.reason.returned": {"zh-CN": "回院就诊", "en": "Back in hospital"},
    "admin.care.reason.stop": {"zh-CN": "患者退订短信", "en": "Patient sent STOP"},
    "admin.care.reason.refused": {"zh-CN": "号码不能再发送", "en": "Number cannot be texted"},
    "admin.care.reason.plan_gone": {"zh-CN": "计划已删除", "en": "Plan removed"},
    "admin.care.reason.erased": {"zh-CN": "资料已删除", "en": "Data erased"},
    "admin.care.enrolled": {"zh-CN": "已登记：{nickname}。", "en": "Enrolled: {nickname}."},
    "admin.care.already_enrolled": {
        "zh-CN": "{nickname}已在该随访计划中，未重复登记。",
        "en": "{nickname} is in this plan already: not enrolled twice.",
    },
    "admin.care.acked": {"zh-CN": "预警已标记为已处理。", "en": "Red flag marked handled."},
    "admin.care.ack_gone": {
        "zh-CN": "该预警已经处理过了。",
        "en": "That red flag was handled already.",
    },
    "admin.care.called": {"zh-CN": "已记录电话回访。", "en": "Call recorded."},
    "admin.care.call_gone": {
        "zh-CN": "该回访已经记录过了。",
        "en": "That call was recorded already.",
    },
    "admin.care.cancelled": {
        "zh-CN": "已取消该患者的随访，未发出的短信不再发送。",
        "en": "Follow-up cancelled: SMS not sent yet will not go.",
    },
    "admin.care.cancel_gone": {
        "zh-CN": "该随访已经结束。",
        "en": "That follow-up had ended already.",
    },
    "admin.care.plan_heading": {"zh-CN": "编辑随访计划：{name}", "en": "Edit plan: {name}"},
    "admin.care.back": {"zh-CN": "← 返回随访", "en": "← Back to follow-up"},
    "admin.care.plan_future_only": {
        "zh-CN": "修改只影响尚未发送的步骤。",
        "en": "Edits apply to future steps only.",
    },
    "admin.care.plan_hint": {
        "zh-CN": "JSON，格式同 config.yaml 的计划。短信只能用 "
        "{{nickname}} {{dept}} {{doctor}} {{date}}，不写诊断。",
        "en": "The same shape as a plan in config.yaml (JSON). An SMS may use the variables "
        "{{nickname}} {{dept}} {{doctor}} {{date}} only; never a diagnosis.",
    },
    "admin.care.plan_body": {"zh-CN": "计划（JSON）", "en": "Plan (JSON)"},
    "admin.care.plan_save_button": {"zh-CN": "保存计划", "en": "Save plan"},
    "admin.care.plan_saved": {
        "zh-CN": "计划已保存，尚未发送的步骤将按新内容发送。",
        "en": "Plan saved: steps not sent yet follow it.",
    },
    "admin.care.plan_invalid": {
        "zh-CN": "计划未保存。第一处问题：{where}：{problem}",
        "en": "The plan was not saved. First problem: {where}: {problem}",
    },
    "admin.care.dashboard_link": {"zh-CN": "查看全部随访预警", "en": "All follow-up red flags"},
    "admin.care.dashboard_meta": {
        "zh-CN": "{plan} · 负责人：{person} · 截止 {deadline}",
        "en": "{plan} · held by {person} · due {deadline}",
    },
    "admin.error.plan_unknown": {"zh-CN": "请选择一个随访计划。", "en": "Choose a plan."},
    "admin.error.consent_missing": {
        "zh-CN": "请选择患者同意的方式：未经同意不能发送随访短信。",
        "en": "Choose how the patient agreed: no follow-up SMS without consent.",
    },
    "admin.error.nickname_length": {
        "zh-CN": "请填写称呼，且不要太长。",
        "en": "Enter a name to use, not too long.",
    },
    "admin.error.nickname_number": {
        "zh-CN": "称呼里不能有号码（它会出现在每条短信里）。",
        "en": "No numbers in the name to use (it is in every SMS).",
    },
    "admin.error.doctor_unknown": {"zh-CN": "没有这位医生。", "en": "No such doctor."},
    "admin.error.phone_invalid": {
        "zh-CN": "请填写正确的手机号码。",
        "en": "Enter a valid mobile number.",
    },
    "admin.error.phone_stopped": {
        "zh-CN": "此号码已退订本服务的短信，不能登记随访。",
        "en": "This number has unsubscribed from our SMS: it cannot be enrolled.",
    },
    "admin.error.phone_staff": {
        "zh-CN": "这是工作人员的号码，不能登记为患者。",
        "en": "That is a staff number, not a patient's.",
    },
    "admin.error.phone_country": {
        "zh-CN": "只能登记本服务支持的国家和地区的手机号码。",
        "en": "Only mobile numbers of the countries this service serves.",
    },
    "admin.error.phone_not_mobile": {
        "zh-CN": "请填写手机号码，不能是固定电话。",
        "en": "Enter a mobile number, not a landline.",
    },
    "admin.error.phone_erased": {
        "zh-CN": "此号码的资料已删除。",
        "en": "This number's data was erased.",
    },
    "admin.error.care_anchor": {"zh-CN": "请选择日期。", "en": "Choose a date."},
    "admin.error.plan_renamed": {
        "zh-CN": "计划的 name 不能修改。",
        "en": "A plan's name cannot change.",
    },
    "admin.error.escalation": {"zh-CN": "没有这条预警。", "en": "No such red flag."},
    "admin.error.call": {"zh-CN": "没有这条回访。", "en": "No such call."},
    "admin.error.enrolment": {"zh-CN": "没有这条随访登记。", "en": "No such enrolment."},
    "admin.audit.action.care.enrol": {
        "zh-CN": "登记随访患者",
        "en": "Patient enrolled in follow-up",
    },
    "admin.audit.action.care.consent": {
        "zh-CN": "记录患者同意随访",
        "en": "Patient's consent recorded",
    },
    "admin.audit.action.care.cancel": {"zh-CN": "随访结束", "en": "Follow-up ended"},
    "admin.audit.action.care.pause": {"zh-CN": "随访暂停", "en": "Follow-up paused"},
    "admin.audit.action.care.resume": {"zh-CN": "随访恢复", "en": "Follow-up resumed"},
    "admin.audit.action.care.plan_saved": {"zh-CN": "修改随访计划", "en": "Follow-up plan edited"},
    "admin.audit.action.care.call_listed": {
        "zh-CN": "列入电话回访",
        "en": "Listed for a call",
    },
    "admin.audit.action.care.call_done": {"zh-CN": "完成电话回访", "en": "Patient called"},
    "admin.audit.action.care.call_read": {
        "zh-CN": "查看回访患者号码",
        "en": "Number read for a call",
    },
    "admin.audit.action.care.escalation": {"zh-CN": "随访预警", "en": "Follow-up red flag"},
    "admin.audit.action.care.escalation_moved": {
        "zh-CN": "预警超时，转给下一位",
        "en": "Red flag passed on (deadline)",
    },
    "admin.audit.action.care.escalation_ack": {"zh-CN": "预警已处理", "en": "Red flag handled"},
    "admin.audit.action.care.escalation_read": {
        "zh-CN": "查看预警患者号码",
        "en": "Number read for a red flag",
    },
    # --- 随访: the discharge list's upload (web/admin_care_upload.py) ---------------------------
    "admin.care_upload.heading": {"zh-CN": "上传出院名单", "en": "Upload a discharge list"},
    "admin.care_upload.link": {
        "zh-CN": "上传出院名单（CSV）",
        "en": "Upload a discharge list (CSV)",
    },
    "admin.care_upload.hint": {
        "zh-CN": "从医院信息系统或 Excel 导出 CSV 文件（UTF-8 或 GBK 编码均可）。",
        "en": "Export a CSV file from the hospital's system or Excel (UTF-8 or GBK).",
    },
    "admin.care_upload.hint_preview": {
        "zh-CN": "先看预览，确认后才会登记；确认前不会登记任何人，也不会发送短信。",
        "en": "You see a preview first: nobody is enrolled and nothing is sent before you confirm.",
    },
    "admin.care_upload.columns": {
        "zh-CN": "必填列：{required}；可选列：{optional}。",
        "en": "Required columns: {required}; optional: {optional}.",
    },
    "admin.care_upload.columns_more": {
        "zh-CN": "第一行写列名。“随访计划”一列为空时，用下面选择的计划；“医生”一列填医生的编号。",
        "en": "The first line names the columns. An empty plan cell means the plan chosen below;"
        " the doctor column holds the doctor's id.",
    },
    "admin.care_upload.template": {"zh-CN": "下载模板（CSV）", "en": "Download a template (CSV)"},
    "admin.care_upload.file": {"zh-CN": "名单文件（CSV）", "en": "List file (CSV)"},
    "admin.care_upload.plan": {
        "zh-CN": "随访计划（名单未写时使用）",
        "en": "Plan (for lines that name none)",
    },
    "admin.care_upload.preview_button": {"zh-CN": "预览", "en": "Preview"},
    "admin.care_upload.no_file": {
        "zh-CN": "请选择要上传的 CSV 文件。",
        "en": "Choose a CSV file to upload.",
    },
    "admin.care_upload.too_big_title": {"zh-CN": "文件太大", "en": "File too big"},
    "admin.care_upload.data_invalid": {
        "zh-CN": "无法再次读取这份名单，请重新上传。",
        "en": "The list could not be read again: upload it again.",
    },
    "admin.care_upload.preview_heading": {
        "zh-CN": "出院名单预览",
        "en": "Discharge list: preview",
    },
    "admin.care_upload.counts": {
        "zh-CN": "共 {lines} 行：新登记 {new} 人，已登记过 {already} 人，不能登记 {refused} 行。",
        "en": "{lines} line(s): {new} to enrol, {already} enrolled already,"
        " {refused} cannot be enrolled.",
    },
    "admin.care_upload.preview_hint": {
        "zh-CN": "还没有登记任何人，也没有发送短信：确认后才登记“新登记”的患者。",
        "en": "Nobody is enrolled and nothing is sent yet: the patients to enrol are enrolled"
        " when you confirm.",
    },
    "admin.care_upload.confirm_button": {
        "zh-CN": "确认登记 {count} 位患者",
        "en": "Enrol {count} patient(s)",
    },
    "admin.care_upload.nothing_new": {
        "zh-CN": "名单里没有可以新登记的患者。",
        "en": "No one on the list is new to enrol.",
    },
    "admin.care_upload.again": {"zh-CN": "重新上传", "en": "Upload another list"},
    "admin.care_upload.line": {"zh-CN": "行", "en": "Line"},
    "admin.care_upload.outcome": {"zh-CN": "结果", "en": "Outcome"},
    "admin.care_upload.outcome.new": {"zh-CN": "新登记", "en": "To enrol"},
    "admin.care_upload.outcome.already": {
        "zh-CN": "已登记过，不重复登记",
        "en": "Enrolled already (once only)",
    },
    "admin.care_upload.outcome.refused": {"zh-CN": "不能登记", "en": "Cannot be enrolled"},
    "admin.care_upload.outcome.enrolled": {"zh-CN": "已登记", "en": "Enrolled"},
    "admin.care_upload.changed": {"zh-CN": "与预览时不同", "en": "Not as previewed"},
    "admin.care_upload.result_heading": {
        "zh-CN": "登记了 {count} 位患者",
        "en": "{count} patient(s) enrolled",
    },
    "admin.care_upload.result_counts": {
        "zh-CN": "新登记 {enrolled} 人，已登记过 {already} 人，未登记 {skipped} 行。",
        "en": "{enrolled} enrolled, {already} enrolled already, {skipped} line(s) not enrolled.",
    },
    "admin.care_upload.unreadable_lines": {
        "zh-CN": "另有 {count} 行有错误（预览中已列出），没有登记。",
        "en": "{count} line(s) with errors (listed in the preview) were not enrolled.",
    },
    "admin.care_upload.result_hint": {
        "zh-CN": "以下各行没有登记，或结果与预览时不同（预览之后情况有变化，例如患者退订了短信）：",
        "en": "These lines were not enrolled, or came out otherwise than the preview said"
        " (something changed since, e.g. the patient unsubscribed):",
    },
    "admin.care_upload.column.phone": {"zh-CN": "手机号", "en": "Mobile number"},
    "admin.care_upload.column.nickname": {"zh-CN": "称呼", "en": "Form of address"},
    "admin.care_upload.column.anchor": {"zh-CN": "日期", "en": "Date"},
    "admin.care_upload.column.plan": {"zh-CN": "随访计划", "en": "Plan"},
    "admin.care_upload.column.doctor": {"zh-CN": "医生", "en": "Doctor"},
    "admin.care_upload.column.consent": {"zh-CN": "知情同意", "en": "Consent"},
    "admin.care_upload.error.csv_too_big": {
        "zh-CN": "文件太大（上限 {limit} 字节）。",
        "en": "The file is too big (at most {limit} bytes).",
    },
    "admin.care_upload.error.csv_encoding": {
        "zh-CN": "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。",
        "en": "The file's encoding is not recognised: save it as CSV in UTF-8 or GBK.",
    },
    "admin.care_upload.error.csv_unreadable": {
        "zh-CN": "文件不是有效的 CSV 表格。",
        "en": "The file is not a readable CSV table.",
    },
    "admin.care_upload.error.csv_empty": {"zh-CN": "文件是空的。", "en": "The file is empty."},
    "admin.care_upload.error.csv_header": {
        "zh-CN": "缺少必需的列：{columns}。",
        "en": "Required columns are missing: {columns}.",
    },
    "admin.care_upload.error.csv_too_many_rows": {
        "zh-CN": "行数太多（上限 {limit} 行），请分批上传。",
        "en": "Too many rows (at most {limit}): upload the list in parts.",
    },
    "admin.care_upload.error.csv_phone_missing": {"zh-CN": "缺少手机号", "en": "No phone number"},
    "admin.care_upload.error.csv_phone_invalid": {
        "zh-CN": "不是有效的手机号",
        "en": "Not a valid mobile number",
    },
    "admin.care_upload.error.csv_duplicate": {
        "zh-CN": "与前面一行的手机号和随访计划重复，只登记一次",
        "en": "Same phone and plan as an earlier line: enrolled once",
    },
    "admin.care_upload.error.csv_nickname_missing": {
        "zh-CN": "缺少称呼",
        "en": "No form of address",
    },
    "admin.care_upload.error.csv_nickname_long": {
        "zh-CN": "称呼太长",
        "en": "Form of address too long",
    },
    "admin.care_upload.error.csv_nickname_number": {
        "zh-CN": "称呼里不能有电话号码或其他长数字",
        "en": "The form of address must not contain a phone number or other long number",
    },
    "admin.care_upload.error.csv_date_missing": {"zh-CN": "缺少日期", "en": "No date"},
    "admin.care_upload.error.csv_date_invalid": {
        "zh-CN": "日期无法识别（请写 2026-12-01 或 2026年12月1日）",
        "en": "Date not recognised (write 2026-12-01 or 2026年12月1日)",
    },
    "admin.care_upload.error.csv_consent_missing": {
        "zh-CN": "未记录患者同意，不会发送短信",
        "en": "No consent recorded: this patient will not be texted",
    },
    "admin.care_upload.error.csv_consent_invalid": {
        "zh-CN": "无法识别同意方式（填 是/口头、书面 或 电子）",
        "en": "Consent not recognised (write yes/verbal, written or electronic)",
    },
    "admin.care_upload.error.plan_unknown": {
        "zh-CN": "没有这个随访计划（“随访计划”一列）",
        "en": "No such plan (the plan column)",
    },
    "admin.care_upload.error.doctor_unknown": {
        "zh-CN": "没有这位医生（“医生”一列填医生的编号）",
        "en": "No such doctor (the doctor column holds a doctor's id)",
    },
    "admin.care_upload.error.other": {"zh-CN": "不能登记", "en": "Cannot be enrolled"},
    "admin.audit.action.care.upload": {
        "zh-CN": "上传随访名单",
        "en": "Discharge list uploaded",
    },
}


def render(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text ``key`` in ``lang`` with ``params`` filled in; extra params are ignored.

    Raises KeyError for an unknown key or language, ValueError naming a missing parameter.
    """
    return render_in(TEXTS, key, lang, **params)


def render_or(key: str, fallback: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text ``key`` (see :func:`render`), or ``fallback`` as it is when there is no such
    text (a status, a reason or a state this catalogue has no words for yet)."""
    return render_or_in(TEXTS, key, fallback, lang, **params)


def join(items: Iterable[str], lang: str) -> str:
    """A list in running text: 、 between Chinese items, a comma and a space in English."""
    return ("、" if lang == DEFAULT_LANG else ", ").join(items)
