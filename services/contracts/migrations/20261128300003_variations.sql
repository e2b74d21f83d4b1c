-- Contracts, third part: variations, rate changes and endings.
--
-- A version is made for a reason (its cause); a version still awaiting signatures is
-- superseded when a newer variation replaces it, and is then never signed. An agreement
-- that ended keeps its last day of support and why.

ALTER TABLE agreement_version
    ADD COLUMN cause text NOT NULL DEFAULT 'drafted'
        CHECK (cause IN ('drafted', 'plan_varied', 'terms_varied', 'rate_changed'));

ALTER TABLE agreement_version DROP CONSTRAINT agreement_version_state_check;
ALTER TABLE agreement_version
    ADD CONSTRAINT agreement_version_state_check
        CHECK (state IN ('awaiting', 'agreed', 'superseded'));

-- At most one version of an agreement awaits signatures at a time.
CREATE UNIQUE INDEX agreement_version_one_awaiting
    ON agreement_version (agreement_id) WHERE state = 'awaiting';

ALTER TABLE agreement
    ADD COLUMN last_day date,
    ADD COLUMN end_cause text CHECK (end_cause IN ('notice', 'plan_ended')),
    -- Kept for the authority's own records; never published.
    ADD COLUMN end_reason text CHECK (char_length(end_reason) BETWEEN 1 AND 300),
    ADD COLUMN ended_on date,
    ADD CONSTRAINT agreement_ended_says_how
        CHECK ((status = 'ended') = (end_cause IS NOT NULL)),
    ADD CONSTRAINT agreement_end_is_complete
        CHECK ((end_cause IS NULL) = (last_day IS NULL AND ended_on IS NULL)
               AND (last_day IS NULL) = (ended_on IS NULL));

-- A version's state moves awaiting -> agreed or awaiting -> superseded, once; what it
-- says never changes after it is agreed.
CREATE FUNCTION refuse_agreed_version_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'agreement versions are never removed';
    END IF;
    IF OLD.state <> 'awaiting' THEN
        RAISE EXCEPTION 'agreement version % of % is %, and never changes',
            OLD.version, OLD.agreement_id, OLD.state;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER agreement_version_settled
    BEFORE UPDATE OR DELETE ON agreement_version
    FOR EACH ROW EXECUTE FUNCTION refuse_agreed_version_change();
