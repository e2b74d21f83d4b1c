-- Who read the authority's aggregate figures or took its national return, and when.
--
-- Aggregates are not a person's record, so reading them writes nothing to any person's
-- audit trail; this log keeps the read itself. (The PHS return does name people by case
-- reference, so it also writes `phs.exported` to each included person's `person_audit`.)
-- Append-only, like person_audit: the service only inserts, and the trigger refuses the
-- rest.
CREATE TABLE report_audit (
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authority   text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    -- What was asked for: the date of the statistics or the period of the return.
    subject     text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 64),
    -- How many people the figures or the return covered.
    people      bigint NOT NULL CHECK (people >= 0),
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX report_audit_by_authority ON report_audit (authority, position);

CREATE TRIGGER report_audit_is_append_only
    BEFORE UPDATE OR DELETE ON report_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_rewrite();
