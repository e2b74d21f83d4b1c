-- Variations: a version may vary an earlier approved one, or end the plan; a provider
-- choice makes a new approved version that carries the approval it follows from.
ALTER TABLE plan_version
    ADD COLUMN previous_version integer CHECK (previous_version >= 1 AND previous_version < version),
    ADD COLUMN ends_plan boolean NOT NULL DEFAULT false;
