-- 010: API tokens for machine clients (issue 17: the hospital's systems post 随访 enrolments).
--
-- A token is a secret shown once, when it is made; only its SHA-256 is kept (token_hash, as
-- relay.services.context.token_hash writes it), so a copy of the database lets nobody in.
-- `name` is the slug admins and the audit log know it by; `scopes` a JSON list of what it may do.
-- A revoked token stays, so that the audit log's names keep meaning and a name is never reused.
-- `last_used_at` is touched at most once a minute per token (relay/services/api_tokens.py).

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 32),
    token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    scopes       TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    revoked_by   TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
) STRICT;
