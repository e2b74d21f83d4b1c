-- What each subscriber (a provider or a third-party fund holder, by its organisation id) is
-- told, numbered per subscriber. A subscriber's row is locked by every transaction that
-- numbers a notification for it, so numbers are handed out in commit order: once a reader
-- sees notification n committed, every notification before n is committed too. That is what
-- lets a stream move from what was kept to what arrives live by asking for "after n" alone.
CREATE TABLE subscriber (
    kind       text NOT NULL CHECK (kind IN ('provider', 'holder')),
    org_id     uuid NOT NULL,
    -- The number of the subscriber's latest notification.
    last_seq   bigint NOT NULL CHECK (last_seq >= 1),
    PRIMARY KEY (kind, org_id)
);

CREATE TABLE notification (
    subscriber_kind  text NOT NULL,
    subscriber_id    uuid NOT NULL,
    seq              bigint NOT NULL CHECK (seq >= 1),
    kind             text NOT NULL CHECK (kind IN (
                         'package_requested', 'package_answered', 'offer_accepted',
                         'request_closed', 'plan_varied', 'agreement_varied',
                         'agreement_ended', 'schedule_changed', 'remittance_issued')),
    authority        text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    occurred_at      timestamptz NOT NULL,
    -- The event that caused it: one event tells a subscriber at most one thing.
    event_id         uuid NOT NULL,
    -- The notice as the portal's domain type writes it; its "kind" repeats the column.
    body             jsonb NOT NULL CHECK (body ->> 'kind' = kind),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber_kind, subscriber_id, seq),
    FOREIGN KEY (subscriber_kind, subscriber_id) REFERENCES subscriber (kind, org_id),
    UNIQUE (subscriber_kind, subscriber_id, event_id)
);
