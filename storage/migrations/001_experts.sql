-- 001: experts and the audit log.
-- config_fields: the columns config.yaml owns for this row. An admin's edit in the database
-- removes the column from this list, and start-up sync never writes it again.
CREATE TABLE experts (
    id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),
    name          TEXT NOT NULL,
    title         TEXT NOT NULL,
    department    TEXT NOT NULL,
    phone         TEXT NOT NULL UNIQUE CHECK (phone GLOB '+[1-9]*'),
    specialty     TEXT,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    config_fields TEXT NOT NULL DEFAULT '["name","title","department","phone","specialty"]'
                  CHECK (json_valid(config_fields)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT CHECK (detail IS NULL OR json_valid(detail))
) STRICT;
