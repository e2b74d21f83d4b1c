-- Payments, seventh part: the person's contribution towards their budget, as the
-- authority's financial assessment sets it, kept per agreement like its other lines: every
-- version with its effective date and the day it was recorded, never changed, so the
-- schedule rule asks what was known on each due date and a backdated change is put right
-- on the next instalment like any variation.
CREATE TABLE contribution_version (
    agreement_id         uuid NOT NULL REFERENCES schedule (agreement_id),
    version              integer NOT NULL CHECK (version >= 1),
    effective_from       date NOT NULL,
    recorded_on          date NOT NULL,
    -- What the person pays a week; 0.00 once no contribution is due.
    weekly               numeric(14, 2) NOT NULL CHECK (weekly >= 0 AND weekly <= 100000),
    -- The financial assessment it comes from, as the authority refers to it.
    assessment_reference text NOT NULL CHECK (length(assessment_reference) BETWEEN 1 AND 100),
    recorded_by          text NOT NULL CHECK (length(recorded_by) BETWEEN 1 AND 200),
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, version)
);

CREATE TRIGGER contribution_version_is_history BEFORE UPDATE OR DELETE ON contribution_version
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
