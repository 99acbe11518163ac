-- 002: the relay. Patients' phones and their verification codes, threads and their messages,
-- the outbox with per-part state, raw inbound parts (deduplicated) and whole inbound messages.
-- Times are UTC ISO-8601 text. Phone numbers are E.164 and appear only in `phones`,
-- `experts`, `outbox.recipient` and `inbound*.sender`: never in a thread or a message.

ALTER TABLE experts ADD COLUMN paused_until TEXT;

CREATE TABLE phones (
    id          INTEGER PRIMARY KEY,
    e164        TEXT NOT NULL UNIQUE CHECK (e164 GLOB '+[1-9]*'),
    verified_at TEXT,
    stopped_at  TEXT,  -- STOP / TD / 退订: nothing more is sent to this number
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE verifications (
    id          TEXT PRIMARY KEY,  -- random, handed to the browser
    phone_id    INTEGER NOT NULL REFERENCES phones (id),
    code_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    verified_at TEXT,
    used_at     TEXT  -- the question it let through
) STRICT;
CREATE INDEX verifications_phone ON verifications (phone_id, created_at);

CREATE TABLE threads (
    id              INTEGER PRIMARY KEY,
    expert_id       TEXT NOT NULL REFERENCES experts (id),
    code            INTEGER NOT NULL CHECK (code > 0),
    token_hash      TEXT NOT NULL UNIQUE,
    nickname        TEXT NOT NULL,
    public          INTEGER NOT NULL CHECK (public IN (0, 1)),
    phone_id        INTEGER REFERENCES phones (id),
    status          TEXT NOT NULL CHECK (status IN (
                        'queued', 'held', 'sent', 'delivered', 'answered',
                        'closed', 'failed', 'expired')),
    hidden          INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    created_at      TEXT NOT NULL,
    last_message_at TEXT NOT NULL,
    closed_at       TEXT
) STRICT;
CREATE INDEX threads_expert_code ON threads (expert_id, code, created_at);
CREATE INDEX threads_phone ON threads (phone_id, status);
CREATE INDEX threads_board ON threads (public, hidden, expert_id, last_message_at);

CREATE TABLE inbound (
    id          INTEGER PRIMARY KEY,
    modem_id    TEXT NOT NULL,
    sender      TEXT NOT NULL,
    text        TEXT NOT NULL,
    parts       INTEGER NOT NULL CHECK (parts >= 1),
    complete    INTEGER NOT NULL CHECK (complete IN (0, 1)),
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN (
                    'reply', 'followup', 'command', 'unmatched', 'unknown_sender',
                    'short_code', 'ignored')),
    thread_id   INTEGER REFERENCES threads (id),
    resolved_at TEXT  -- an unmatched message an admin has dealt with
) STRICT;
CREATE INDEX inbound_outcome ON inbound (outcome, received_at);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    thread_id  INTEGER NOT NULL REFERENCES threads (id),
    sender     TEXT NOT NULL CHECK (sender IN ('patient', 'expert', 'assistant', 'system')),
    text       TEXT NOT NULL,
    public_text TEXT NOT NULL,  -- as public pages show it, numbers masked (and search it)
    at         TEXT NOT NULL,
    inbound_id INTEGER UNIQUE REFERENCES inbound (id)  -- one post per received SMS, at most
) STRICT;
CREATE INDEX messages_thread ON messages (thread_id, id);

-- The raw parts as read from a SIM, stored before the SIM copy is deleted. dedup_key is the
-- modem and the PDU (with its timestamp): a message read twice is stored once.
CREATE TABLE inbound_parts (
    id          INTEGER PRIMARY KEY,
    dedup_key   TEXT NOT NULL UNIQUE,
    modem_id    TEXT NOT NULL,
    pdu         TEXT NOT NULL,
    received_at TEXT NOT NULL,
    inbound_id  INTEGER REFERENCES inbound (id)  -- NULL while its message is incomplete
) STRICT;
CREATE INDEX inbound_parts_pending ON inbound_parts (inbound_id) WHERE inbound_id IS NULL;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('verification', 'to_patient', 'to_expert', 'notice')),
    priority        INTEGER NOT NULL,
    recipient       TEXT NOT NULL,
    text            TEXT NOT NULL,
    thread_id       INTEGER REFERENCES threads (id),
    ref             INTEGER NOT NULL CHECK (ref BETWEEN 0 AND 255),  -- concatenation reference
    status          TEXT NOT NULL CHECK (status IN (
                        'queued', 'sent', 'delivered', 'failed', 'cancelled')),
    modem_id        TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    error           TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (status, priority, next_attempt_at);

-- One row per part once the part has been accepted by a modem (its TP-MR for the report).
-- A part with no row here has not been sent, or was in flight when the daemon stopped.
CREATE TABLE outbox_parts (
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id),
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    total        INTEGER NOT NULL CHECK (total >= seq),
    modem_id     TEXT NOT NULL,
    mr           INTEGER NOT NULL CHECK (mr BETWEEN 0 AND 255),
    sent_at      TEXT NOT NULL,
    delivered_at TEXT,
    report       INTEGER,  -- TP-ST of the status report
    PRIMARY KEY (outbox_id, seq)
) STRICT;
CREATE INDEX outbox_parts_report ON outbox_parts (modem_id, mr, sent_at);
