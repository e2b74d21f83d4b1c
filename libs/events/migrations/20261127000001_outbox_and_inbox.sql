-- The transactional outbox and the consumer inbox, created inside the schema of the
-- service that runs these migrations (its connections set search_path to it).

CREATE TABLE outbox (
    -- UUIDv7 event id: time-ordered, and the Nats-Msg-Id that JetStream deduplicates on.
    event_id     uuid PRIMARY KEY,
    -- Relay order: the order in which writers inserted the events.
    -- No unique index of its own: identity values never repeat, and a second index here
    -- would cost every mark-as-published an index insertion.
    position     bigint GENERATED ALWAYS AS IDENTITY,
    subject      text NOT NULL,
    event_type   text NOT NULL,
    -- The encoded sds.v1.Event envelope.
    payload      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);

-- The relay only ever looks for what is still to publish.
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;

CREATE TABLE inbox (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
