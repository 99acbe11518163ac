-- 011: a 随访 step's {link}: the page of its plan (which may name the condition) behind a token.
-- Each send makes a fresh token; only its hash is kept (as thread_links keeps a thread's). The
-- erasure of the patient's number deletes the rows, and the page is gone.
CREATE TABLE care_links (
    token_hash   TEXT PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES care_enrolments (id),
    step         TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX care_links_enrolment ON care_links (enrolment_id);
