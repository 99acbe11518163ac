-- 004: an erased patient's phone row keeps its id (threads, audit entries and erased_at refer
-- to it) but loses the number: e164 becomes 'erased:<id>', still UNIQUE, no longer a number.
-- 002's CHECK allowed only '+digits'; SQLite cannot alter a CHECK, so `phones` is rebuilt.
--
-- foreign_keys is ON and cannot be switched off inside the migration's transaction, and
-- dropping a parent table that child rows still point to fails at COMMIT even with deferred
-- keys. So the children let go first (their links are kept in temp tables) and come back after.

CREATE TEMP TABLE phone_links AS
    SELECT id, phone_id FROM threads WHERE phone_id IS NOT NULL;
CREATE TEMP TABLE verifications_kept AS SELECT * FROM verifications;
UPDATE threads SET phone_id = NULL WHERE phone_id IS NOT NULL;
DELETE FROM verifications;

CREATE TABLE phones_new (
    id          INTEGER PRIMARY KEY,
    e164        TEXT NOT NULL UNIQUE CHECK (
                    e164 GLOB '+[1-9]*'
                    OR (erased_at IS NOT NULL AND e164 = 'erased:' || id)),
    verified_at TEXT,
    stopped_at  TEXT,  -- STOP / TD / 退订: nothing more is sent to this number
    created_at  TEXT NOT NULL,
    erased_at   TEXT   -- the number was erased (retention or on request)
) STRICT;
INSERT INTO phones_new (id, e164, verified_at, stopped_at, created_at, erased_at)
    SELECT id, e164, verified_at, stopped_at, created_at, erased_at FROM phones;
DROP TABLE phones;
ALTER TABLE phones_new RENAME TO phones;

INSERT INTO verifications SELECT * FROM temp.verifications_kept;
UPDATE threads SET phone_id = (SELECT l.phone_id FROM temp.phone_links l WHERE l.id = threads.id)
    WHERE id IN (SELECT id FROM temp.phone_links);
DROP TABLE temp.phone_links;
DROP TABLE temp.verifications_kept;
