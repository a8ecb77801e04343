-- The PostgreSQL backend of the ledger's log (store/src/postgres.rs). Applied by refinery at start; never edit
-- an applied file: add V2__... instead.

-- One row per sealed record, keyed by its global position. `record` holds exactly the bytes the embedded log
-- stores (the encoded envelope that the hash chain covers), so `verify` and exports do not depend on the
-- backend. `stream` and `stream_version` are copied from the envelope for the uniqueness constraint; they
-- are NULL for bytes that are not an envelope (the store's own tests).
CREATE TABLE events (
    position       bigint  PRIMARY KEY CHECK (position > 0),
    stream         text,
    stream_version bigint  CHECK (stream_version > 0),
    ends_command   boolean NOT NULL,
    hash           bytea   NOT NULL CHECK (octet_length(hash) = 32),
    record         bytea   NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream, stream_version)
);

-- The head of the log: exactly one row. An append moves it with a compare-and-set in the same transaction as
-- its inserts, so a writer whose expected head is stale appends nothing (fencing).
CREATE TABLE ledger_head (
    id       smallint PRIMARY KEY CHECK (id = 1),
    position bigint   NOT NULL CHECK (position >= 0),
    hash     bytea    NOT NULL CHECK (octet_length(hash) = 32)
);
INSERT INTO ledger_head (id, position, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- The log is append-only: rows are never updated or deleted, and the table is never truncated.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the events table is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
