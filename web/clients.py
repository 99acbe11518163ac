"""Who is asking: the client's real address behind a trusted proxy, its network, its scheme.

Behind a reverse proxy every request comes from the proxy's address; the proxies named in
``web.trusted_proxies`` (:data:`PROXIES_KEY`, set by :func:`smscat.web.admin.add_routes`) are
believed about the client (``X-Forwarded-For``, its last hop that is not a proxy) and the scheme
(``X-Forwarded-Proto``); nobody else is. The admin's login counts and audits by the client's
network, the per-client limits (:mod:`.limits`) count by it, and ``/metrics`` and ``/healthz``
give their details to loopback and allowed networks only (:func:`allowed`).

It must never put an address into a log line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from smscat.web.admin_auth import network_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = Sequence[Network]
PROXIES_KEY: web.AppKey[tuple[Network, ...]] = web.AppKey("smscat_trusted_proxies", tuple)


def _trusted(request: web.Request, address: str | None) -> bool:
    proxies = request.app.get(PROXIES_KEY, ())  # an app without the admin pages: none
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_ip(request: web.Request) -> str:
    """The client's address: behind a trusted proxy, the last untrusted X-Forwarded-For hop."""
    remote = request.remote or ""
    if not _trusted(request, remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(request, hop):
            return hop
    return hops[0] if hops else remote


def client_network(request: web.Request) -> str:
    """The client's network (IPv4 /24, IPv6 /64): what logins are counted and audited by."""
    return network_of(client_ip(request))


def is_https(request: web.Request) -> bool:
    """Did the request come over HTTPS, directly or per a trusted proxy's X-Forwarded-Proto?"""
    if request.secure:
        return True
    if not _trusted(request, request.remote):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def allowed(remote: str | None, allow: Networks) -> bool:
    """Is ``remote`` loopback, or in one of the ``allow`` networks?"""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return address.is_loopback or any(address in network for network in allow)
