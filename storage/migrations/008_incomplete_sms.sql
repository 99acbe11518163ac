-- 008: a long SMS that lost a part. After the reassembly timeout the relay posts what arrived,
-- marked, and keeps here what it needs to finish the job when the late part comes: the
-- concatenation reference (with `sender` and `parts`, the key a late part is matched by), the
-- part numbers still missing, and the SMS that forwarded the marked text to the other party
-- (replaced while still queued, followed by the complete version once sent). `completed_at`:
-- a late part made it whole (the row's text and its posted message were updated then).
-- forwarded_outbox_id has no foreign key: outbox rows may be deleted on their own schedule.

ALTER TABLE inbound ADD COLUMN concat_ref INTEGER
    CHECK (concat_ref IS NULL OR concat_ref BETWEEN 0 AND 255);
ALTER TABLE inbound ADD COLUMN missing TEXT
    CHECK (missing IS NULL OR json_valid(missing));  -- [2, 3]: parts not received (incomplete)
ALTER TABLE inbound ADD COLUMN forwarded_outbox_id INTEGER;
ALTER TABLE inbound ADD COLUMN completed_at TEXT;

CREATE INDEX inbound_incomplete ON inbound (sender, concat_ref, parts) WHERE complete = 0;
-- a message's raw parts, found again when a late part completes it (and by retention)
CREATE INDEX inbound_parts_inbound ON inbound_parts (inbound_id);
