-- The highest aggregate version each consumer has seen, so that a handler keeping only the
-- latest state can ignore an older fact that arrives late (sds_events::Received::is_newest_seen).
CREATE TABLE aggregate_version (
    consumer       text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    version        bigint NOT NULL CHECK (version >= 0),
    PRIMARY KEY (consumer, aggregate_type, aggregate_id)
);

-- How many deliveries a consumer made before it set an event aside; unknown for letters
-- written before it was counted.
ALTER TABLE dead_letter ADD COLUMN deliveries integer CHECK (deliveries > 0);

-- Stream sequences start again when NATS loses its store, so they cannot key a letter: a
-- new letter colliding with an old one would be dropped while its event is let go. Letters
-- get an id of their own; one event is kept once per consumer.
ALTER TABLE dead_letter DROP CONSTRAINT dead_letter_pkey;
ALTER TABLE dead_letter ADD COLUMN letter_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE UNIQUE INDEX dead_letter_event_once ON dead_letter (consumer, event_id)
    WHERE event_id IS NOT NULL;

-- Pruning finds old rows by age (sds_events::prune). BRIN indexes cost next to nothing to
-- keep, since both columns only grow with insertion order.
CREATE INDEX inbox_handled_at ON inbox USING brin (handled_at);
CREATE INDEX outbox_created_at ON outbox USING brin (created_at);
