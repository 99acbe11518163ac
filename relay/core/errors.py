"""What the relay refuses, and why: one tree, each with an HTTP status and a text key.

    RelayError (status, key)
    ├── Invalid        422  a field is wrong (``field`` names it)
    ├── Forbidden      403  a token or code that does not match
    ├── NotFound       404  no such expert / thread / verification
    ├── Conflict       409  the thing is in a state that does not allow this
    └── TooMany        429  a limit was reached (``retry_after`` seconds)

``key`` selects the user-facing text in :mod:`smscat.web.texts` (``error.<key>``); the web
layer renders it in the visitor's language. No message ever contains a phone number, a code or
the text someone typed.
"""

from __future__ import annotations


class RelayError(Exception):
    status = 400

    def __init__(self, key: str, *, field: str | None = None) -> None:
        super().__init__(key if field is None else f"{field}: {key}")
        self.key = key
        self.field = field


class Invalid(RelayError):
    status = 422


class Forbidden(RelayError):
    status = 403


class NotFound(RelayError):
    status = 404


class Conflict(RelayError):
    status = 409


class TooMany(RelayError):
    status = 429

    def __init__(self, key: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(key, field=field)
        self.retry_after = retry_after
