-- Events a consumer set aside instead of applying: undecodable envelopes and events its
-- handler declared permanently unusable. Kept whole, so that after a fix they can be
-- looked at and replayed; nothing a consumer gives up on is lost without a trace.
CREATE TABLE dead_letter (
    consumer        text NOT NULL,
    stream_sequence bigint NOT NULL,
    -- NULL when the envelope could not be decoded.
    event_id        uuid,
    event_type      text,
    subject         text NOT NULL,
    reason          text NOT NULL,
    payload         bytea NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, stream_sequence)
);
