-- 003: what keeps doctors using it and hospitals trusting it. Expert controls and assistants,
-- who currently holds a thread, thanks, the SIM a recipient hears from, alerts, erasure.

ALTER TABLE experts ADD COLUMN role TEXT NOT NULL DEFAULT 'expert'
    CHECK (role IN ('expert', 'assistant'));
ALTER TABLE experts ADD COLUMN assistant_id TEXT REFERENCES experts (id);
ALTER TABLE experts ADD COLUMN quiet_hours TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(quiet_hours));  -- ["22:00-07:30", …] in the department's time zone
ALTER TABLE experts ADD COLUMN daily_cap INTEGER CHECK (daily_cap IS NULL OR daily_cap >= 0);
ALTER TABLE experts ADD COLUMN confirm_replies INTEGER NOT NULL DEFAULT 0
    CHECK (confirm_replies IN (0, 1));
ALTER TABLE experts ADD COLUMN digest INTEGER NOT NULL DEFAULT 1 CHECK (digest IN (0, 1));
ALTER TABLE experts ADD COLUMN welcomed_at TEXT;
ALTER TABLE experts ADD COLUMN left_at TEXT;

-- The person whose phone gets the thread's SMS now: the expert, or their assistant.
ALTER TABLE threads ADD COLUMN handler_id TEXT REFERENCES experts (id);
ALTER TABLE threads ADD COLUMN thanked_at TEXT;
ALTER TABLE threads ADD COLUMN helpful INTEGER CHECK (helpful IS NULL OR helpful IN (0, 1));

-- A recipient keeps hearing from the same SIM while it is healthy.
CREATE TABLE recipient_modem (
    recipient TEXT PRIMARY KEY,
    modem_id  TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;

-- One row per incident: opened, (re)notified, cleared.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN (
                    'modem_down', 'queue_stalled', 'cap_near', 'short_code')),
    subject     TEXT NOT NULL,  -- a modem id, 'outbox', an inbound id
    opened_at   TEXT NOT NULL,
    notified_at TEXT,
    cleared_at  TEXT,
    detail      TEXT CHECK (detail IS NULL OR json_valid(detail))
) STRICT;
CREATE INDEX alerts_open ON alerts (kind, subject) WHERE cleared_at IS NULL;

ALTER TABLE phones ADD COLUMN erased_at TEXT;

-- Rows made before 003 let config own the new fields too (an admin has not edited them yet).
UPDATE experts SET config_fields = (
    SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(experts.config_fields)
        UNION ALL
        SELECT value FROM json_each(
            '["role","assistant_id","quiet_hours","daily_cap","confirm_replies","digest"]')
    )
);
