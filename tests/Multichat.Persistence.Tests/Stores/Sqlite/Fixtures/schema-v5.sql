-- A sessions.db as schema version 5 wrote it (no read_cursors table): the five migration steps of SqliteSchema
-- verbatim, then rows as a v5 build stores them. Regenerate schema-v5.db with:
--   rm -f schema-v5.db && sqlite3 schema-v5.db < schema-v5.sql
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
CREATE TABLE session_participants (
    session_id  TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    participant TEXT    NOT NULL,
    PRIMARY KEY (session_id, position)
) WITHOUT ROWID;
CREATE INDEX ix_session_participants_participant ON session_participants (participant, session_id);
CREATE INDEX ix_sessions_recency ON sessions (updated_at DESC, session_id DESC);
ALTER TABLE messages ADD COLUMN appended_at INTEGER;
CREATE TABLE session_activity (
    updated_at INTEGER NOT NULL,
    session_id TEXT    NOT NULL,
    PRIMARY KEY (updated_at, session_id)
) WITHOUT ROWID;
DROP INDEX ix_sessions_recency;
CREATE TABLE session_count (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
    sessions INTEGER NOT NULL
);
INSERT INTO session_count (id, sessions) SELECT 0, count(*) FROM sessions;
CREATE TRIGGER tr_sessions_count_insert AFTER INSERT ON sessions
BEGIN
    UPDATE session_count SET sessions = sessions + 1 WHERE id = 0;
END;
CREATE TRIGGER tr_sessions_count_delete AFTER DELETE ON sessions
BEGIN
    UPDATE session_count SET sessions = sessions - 1 WHERE id = 0;
END;
ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
-- 2026-01-01T12:00:00Z = 639028656000000000 ticks. Two sessions; 'alpha' was updated once (version 2) and has two
-- appended messages (its row's counters are as of that update, the messages add to them), 'beta' none.
INSERT INTO sessions VALUES ('alpha', '["Alice","Bob"]', 'Alpha', NULL, 639028656000000000, 639028656010000000, 2, 0, 0, 7001);
INSERT INTO sessions VALUES ('beta', '["Bob"]', NULL, NULL, 639028656020000000, 639028656020000000, 1, 0, 0, 7002);
INSERT INTO session_participants VALUES ('alpha', 0, 'Alice'), ('alpha', 1, 'Bob'), ('beta', 0, 'Bob');
INSERT INTO messages VALUES ('alpha', 1, 'm-1', 'Alice', NULL, 'Hello', 639028656030000000, NULL, 639028656030000000);
INSERT INTO messages VALUES ('alpha', 2, 'm-2', 'Bob', 'Alice', 'Hi', 639028656040000000, NULL, 639028656040000000);
INSERT INTO session_activity VALUES (639028656040000000, 'alpha'), (639028656020000000, 'beta');
PRAGMA application_id = 1296255060;
PRAGMA user_version = 5;
