-- 009: 随访, hospital-initiated follow-up plans ("care plans" in the code: "follow-up" already
-- names a patient's second message in a thread).
--
-- A plan (config.yaml, editable by admins: the stored body wins) is a list of steps at day
-- offsets from an anchor date. An enrolment is one patient in one plan, with the consent that
-- lets us text them; its steps go out as outbox rows of kind 'care'; the patient's replies, the
-- escalations they raise and the calls listed for patients who never answered hang off it.
--
-- The outbox's kind and the inbound outcome are CHECKed lists, which SQLite cannot alter, so both
-- tables are rebuilt (as 004 rebuilt phones): their children let go first and come back after.

CREATE TEMP TABLE parts_kept AS SELECT * FROM outbox_parts;
CREATE TEMP TABLE spent_kept AS SELECT * FROM outbox_parts_spent;
DELETE FROM outbox_parts;
DELETE FROM outbox_parts_spent;

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN (
                        'verification', 'to_patient', 'to_expert', 'notice', 'care')),
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
    sent_at         TEXT,
    avoid_modem     TEXT
) STRICT;
INSERT INTO outbox_new SELECT id, kind, priority, recipient, text, thread_id, ref, status,
    modem_id, attempts, next_attempt_at, error, created_at, sent_at, avoid_modem FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, priority, next_attempt_at);
CREATE INDEX outbox_thread ON outbox (thread_id);
CREATE INDEX outbox_recipient ON outbox (recipient, id);

INSERT INTO outbox_parts SELECT * FROM temp.parts_kept;
INSERT INTO outbox_parts_spent SELECT * FROM temp.spent_kept;
DROP TABLE temp.parts_kept;
DROP TABLE temp.spent_kept;

CREATE TEMP TABLE part_links AS SELECT id, inbound_id FROM inbound_parts WHERE inbound_id IS NOT NULL;
CREATE TEMP TABLE message_links AS SELECT id, inbound_id FROM messages WHERE inbound_id IS NOT NULL;
UPDATE inbound_parts SET inbound_id = NULL WHERE inbound_id IS NOT NULL;
UPDATE messages SET inbound_id = NULL WHERE inbound_id IS NOT NULL;

CREATE TABLE inbound_new (
    id          INTEGER PRIMARY KEY,
    modem_id    TEXT NOT NULL,
    sender      TEXT NOT NULL,
    text        TEXT NOT NULL,
    parts       INTEGER NOT NULL CHECK (parts >= 1),
    complete    INTEGER NOT NULL CHECK (complete IN (0, 1)),
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN (
                    'reply', 'followup', 'command', 'unmatched', 'unknown_sender',
                    'short_code', 'ignored', 'care_reply', 'care_ack')),
    thread_id   INTEGER REFERENCES threads (id),
    resolved_at TEXT,  -- an unmatched message an admin has dealt with
    concat_ref  INTEGER CHECK (concat_ref IS NULL OR concat_ref BETWEEN 0 AND 255),
    missing     TEXT CHECK (missing IS NULL OR json_valid(missing)),
    forwarded_outbox_id INTEGER,
    completed_at TEXT
) STRICT;
INSERT INTO inbound_new SELECT id, modem_id, sender, text, parts, complete, received_at, outcome,
    thread_id, resolved_at, concat_ref, missing, forwarded_outbox_id, completed_at FROM inbound;
DROP TABLE inbound;
ALTER TABLE inbound_new RENAME TO inbound;
CREATE INDEX inbound_outcome ON inbound (outcome, received_at);
CREATE INDEX inbound_incomplete ON inbound (sender, concat_ref, parts) WHERE complete = 0;

UPDATE inbound_parts SET inbound_id = (SELECT l.inbound_id FROM temp.part_links l
    WHERE l.id = inbound_parts.id) WHERE id IN (SELECT id FROM temp.part_links);
UPDATE messages SET inbound_id = (SELECT l.inbound_id FROM temp.message_links l
    WHERE l.id = messages.id) WHERE id IN (SELECT id FROM temp.message_links);
DROP TABLE temp.part_links;
DROP TABLE temp.message_links;

-- An admin's edit of a plan: the body (JSON, as config.yaml's plan) replaces config's from then
-- on; steps already sent stay as they went.
CREATE TABLE care_plans (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL CHECK (json_valid(body)),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;

CREATE TABLE care_enrolments (
    id           INTEGER PRIMARY KEY,
    plan         TEXT NOT NULL,
    phone_id     INTEGER NOT NULL REFERENCES phones (id),
    nickname     TEXT NOT NULL,
    anchor       TEXT NOT NULL,  -- the visit, discharge or surgery date, YYYY-MM-DD, local
    doctor_id    TEXT REFERENCES experts (id),
    department   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
    ended_reason TEXT,  -- readmitted, deceased, opted_out, stop, returned (paused), admin
    ended_at     TEXT,
    consent_by   TEXT NOT NULL,  -- who recorded the patient's consent
    consent_at   TEXT NOT NULL,
    consent_how  TEXT NOT NULL CHECK (consent_how IN ('verbal', 'written', 'electronic')),
    source       TEXT NOT NULL CHECK (source IN ('admin', 'csv', 'api')),
    next_at      TEXT,  -- when the planner looks at it next (NULL: nothing more to do)
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL
) STRICT;
-- a patient enrolled twice in one plan is one enrolment
CREATE UNIQUE INDEX care_one_running ON care_enrolments (plan, phone_id)
    WHERE status IN ('active', 'paused');
CREATE UNIQUE INDEX care_one_per_anchor ON care_enrolments (plan, phone_id, anchor);
CREATE INDEX care_due ON care_enrolments (next_at) WHERE status = 'active';
CREATE INDEX care_phone ON care_enrolments (phone_id, status);

-- What went to the patient: a step, or the one reminder of a step.
CREATE TABLE care_sends (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES care_enrolments (id),
    step         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step', 'reminder')),
    outbox_id    INTEGER REFERENCES outbox (id),  -- NULL: the recipient rule refused it
    at           TEXT NOT NULL,  -- when it was queued to go (inside the window)
    UNIQUE (enrolment_id, step, kind)
) STRICT;
CREATE INDEX care_sends_outbox ON care_sends (outbox_id);

CREATE TABLE care_replies (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES care_enrolments (id),
    step         TEXT NOT NULL,
    inbound_id   INTEGER REFERENCES inbound (id),
    text         TEXT NOT NULL,
    choice       TEXT,  -- the menu answer ("3"), NULL for free text
    red_flag     INTEGER NOT NULL CHECK (red_flag IN (0, 1)),
    keywords     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(keywords)),
    at           TEXT NOT NULL
) STRICT;
CREATE INDEX care_replies_enrolment ON care_replies (enrolment_id, step);

-- A red flag, with the person on the rota who must acknowledge it (by SMS with the code, or on
-- the dashboard) before the deadline; after it, the next person gets it.
CREATE TABLE care_escalations (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES care_enrolments (id),
    reply_id     INTEGER NOT NULL UNIQUE REFERENCES care_replies (id),
    person_id    TEXT REFERENCES experts (id),  -- NULL: nobody left on the rota
    code         INTEGER,  -- the person's code for it (the same space as their thread codes)
    rota_index   INTEGER NOT NULL DEFAULT 0,
    raised_at    TEXT NOT NULL,
    assigned_at  TEXT NOT NULL,
    deadline_at  TEXT NOT NULL,
    acked_at     TEXT,
    acked_by     TEXT
) STRICT;
CREATE INDEX care_escalations_open ON care_escalations (deadline_at) WHERE acked_at IS NULL;
CREATE INDEX care_escalations_person ON care_escalations (person_id, code);

-- A patient who answered neither a step nor its reminder: a nurse calls, and marks it done.
CREATE TABLE care_calls (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES care_enrolments (id),
    step         TEXT NOT NULL,
    listed_at    TEXT NOT NULL,
    done_at      TEXT,
    done_by      TEXT,
    UNIQUE (enrolment_id, step)
) STRICT;
CREATE INDEX care_calls_open ON care_calls (listed_at) WHERE done_at IS NULL;
