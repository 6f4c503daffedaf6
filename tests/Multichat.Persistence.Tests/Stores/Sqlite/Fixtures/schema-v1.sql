-- A sessions.db as schema version 1 wrote it (participants only as a JSON array in sessions; no
-- session_participants table, no listing indexes). Regenerate schema-v1.db with:
--   rm -f schema-v1.db && sqlite3 schema-v1.db < schema-v1.sql
CREATE TABLE sessions (
    session_id    TEXT    NOT NULL PRIMARY KEY,
    participants  TEXT    NOT NULL,
    title         TEXT,
    metadata      TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    message_count INTEGER NOT NULL
);
CREATE TABLE messages (
    session_id TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    sender     TEXT    NOT NULL,
    recipient  TEXT,
    content    TEXT    NOT NULL,
    timestamp  INTEGER NOT NULL,
    metadata   TEXT,
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, id)
);
-- 2026-01-01T12:00:00Z = 639028656000000000 ticks.
INSERT INTO sessions VALUES ('planning', '["Alice","Bob"]', 'Sprint planning', '{"team":"core"}', 639028656000000000, 639028656030000000, 3, 3, 2);
INSERT INTO sessions VALUES ('''; DROP TABLE sessions; --', '["Bob","Carol"]', NULL, NULL, 639028656010000000, 639028656010000000, 1, 0, 0);
-- Message 1 of 'planning' was trimmed; 2 and 3 remain.
INSERT INTO messages VALUES ('planning', 2, 'm-2', 'Alice', 'Bob', 'Hello Bob', 639028656020000000, NULL);
INSERT INTO messages VALUES ('planning', 3, 'm-3', 'Bob', NULL, 'Hi all ✓', 639028656030000001, '{"model":"x"}');
PRAGMA application_id = 1296255060;
PRAGMA user_version = 1;
