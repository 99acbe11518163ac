"""The admin's API tokens page: the tokens the hospital's systems call the API with.

``/admin/tokens`` lists every token (name, scopes, made when and by whom, last used, revoked),
makes a new one (the answer shows its secret, this once: it is never stored, so it is rendered
straight into that answer, not carried to a next page) and revokes one. Thin: request →
:class:`~smscat.relay.services.api_tokens.ApiTokens` → a page in words from
:mod:`smscat.web.texts` (``admin.tokens.*``), or a 303 back to the list.

It must never: show, log or keep a token's secret anywhere but in the one answer that creates
it (``Cache-Control: no-store``, as every admin page), or show an exception's text.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.services.api_tokens import SCOPES
from smscat.relay.services.management import local_time
from smscat.web.admin_pages import done, error_words, frame
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_form, admin_page, admin_view
from smscat.web.site import form_value

PATH = "/admin/tokens"


async def _tokens_page(
    request: web.Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    created: dict[str, str] | None = None,
    typed: str = "",
) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    zone = relay.options.zone
    tokens: list[dict[str, Any]] = [
        {
            "name": t.name,
            "scopes": sorted(t.scopes),
            "created": local_time(t.created_at, zone),
            "created_by": t.created_by,
            "last_used": local_time(t.last_used_at, zone),
            "revoked": local_time(t.revoked_at, zone),
        }
        for t in await relay.api_tokens.list()
    ]
    return admin_view(
        request,
        "tokens.html",
        status,
        tokens=tokens,
        scopes=sorted(SCOPES),
        created=created,
        error=error,
        errors=errors or {},
        typed=typed,
        **frame(request, caller, "tokens"),
    )


@admin_page
async def tokens_page(request: web.Request, caller: Caller) -> web.Response:
    return await _tokens_page(request, caller)


@admin_form
async def create_token(request: web.Request, caller: Caller) -> web.Response:
    name = form_value(caller.form, "name", 64).strip()
    scopes = [v for k, v in caller.form.items() if k == "scope" and isinstance(v, str)]
    try:
        secret = await request.app[ADMIN_KEY].relay.api_tokens.create(name, scopes, caller.actor)
    except RelayError as exc:  # a wrong field: its words beside it
        return await _tokens_page(
            request, caller, status=exc.status, error=error_words(exc, caller.lang),
            errors={exc.field: exc.key} if exc.field else {}, typed=name,
        )  # fmt: skip
    return await _tokens_page(request, caller, created={"name": name, "secret": secret})


@admin_form
async def revoke_token(request: web.Request, caller: Caller) -> web.Response:
    name = form_value(caller.form, "name", 64)
    try:
        await request.app[ADMIN_KEY].relay.api_tokens.revoke(name, caller.actor)
    except RelayError as exc:
        error = error_words(exc, caller.lang)
        return await _tokens_page(request, caller, status=exc.status, error=error)
    raise done(caller, PATH, "admin.tokens.revoked_done", name=name)


def add_routes(app: web.Application) -> None:
    """The API tokens routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get(PATH, tokens_page)
    app.router.add_post(PATH, create_token)
    app.router.add_post(f"{PATH}/revoke", revoke_token)
