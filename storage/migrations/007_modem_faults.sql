-- 007: SMS that move between SIMs, and a SIM PIN that must not be tried twice.
--
-- avoid_modem: a SIM that refused this SMS for a reason that may be the SIM's own (+CMS ERROR 21,
-- "transfer rejected": an operator's filter); the SMS is tried once, whole, from another SIM.
ALTER TABLE outbox ADD COLUMN avoid_modem TEXT;

-- Parts a SIM sent of an SMS that then went again, whole, from another SIM (a phone cannot join
-- parts from two numbers): kept because they count against that SIM's caps.
CREATE TABLE outbox_parts_spent (
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    seq       INTEGER NOT NULL,
    total     INTEGER NOT NULL,
    modem_id  TEXT NOT NULL,
    mr        INTEGER NOT NULL,
    sent_at   TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_parts_spent_modem ON outbox_parts_spent (modem_id, sent_at);
CREATE INDEX outbox_parts_spent_outbox ON outbox_parts_spent (outbox_id);

-- A SIM PIN from config that the SIM refused: never entered again (three wrong PINs need the
-- PUK), across restarts, until config holds another PIN. pin_hash: SHA-256 of modem id and PIN.
CREATE TABLE refused_pins (
    modem_id   TEXT PRIMARY KEY,
    pin_hash   TEXT NOT NULL,
    refused_at TEXT NOT NULL
) STRICT;

-- SMS that failed for good are an incident of their own (the CHECK lists the kinds).
CREATE TABLE alerts_007 (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN (
                    'modem_down', 'queue_stalled', 'cap_near', 'short_code', 'sms_failed')),
    subject     TEXT NOT NULL,  -- a modem id, 'outbox', an inbound id
    opened_at   TEXT NOT NULL,
    notified_at TEXT,
    cleared_at  TEXT,
    detail      TEXT CHECK (detail IS NULL OR json_valid(detail))
) STRICT;
INSERT INTO alerts_007 SELECT id, kind, subject, opened_at, notified_at, cleared_at, detail FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_007 RENAME TO alerts;
CREATE INDEX alerts_open ON alerts (kind, subject) WHERE cleared_at IS NULL;
