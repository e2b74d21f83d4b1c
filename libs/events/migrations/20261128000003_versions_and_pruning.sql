-- The highest aggregate version each consumer has seen, so that a handler keeping only the
-- latest state can ignore an older fact that arrives late (sds_events::Received::is_newest_seen).
CREATE TABLE aggregate_version (
    consumer       text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    version        bigint NOT NULL CHECK (version >= 0),
    PRIMARY KEY (consumer, aggregate_type, aggregate_id)
);

-- How many deliveries a consumer made before it set an event aside.
ALTER TABLE dead_letter ADD COLUMN deliveries integer NOT NULL DEFAULT 1;

-- Pruning finds old inbox rows by age (sds_events::prune).
CREATE INDEX inbox_handled_at ON inbox (handled_at);
