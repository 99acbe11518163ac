-- 005: more links to one thread. A thread's link holds a token stored only as a hash
-- (threads.token_hash), so sending the link again by SMS means a new token for the same thread:
-- one row here per link sent; the first link and every one sent keep working.
-- `link_sms` is one row per SMS that carried links, for the relay's limits per phone.
-- Erasing a patient's number deletes their rows in both tables (storage/retention.py).

CREATE TABLE thread_links (
    id         INTEGER PRIMARY KEY,
    thread_id  INTEGER NOT NULL REFERENCES threads (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX thread_links_thread ON thread_links (thread_id);

CREATE TABLE link_sms (
    id         INTEGER PRIMARY KEY,
    phone_id   INTEGER NOT NULL REFERENCES phones (id),
    links      INTEGER NOT NULL CHECK (links >= 1),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX link_sms_phone ON link_sms (phone_id, created_at);
CREATE INDEX link_sms_at ON link_sms (created_at);
