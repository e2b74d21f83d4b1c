-- The providers the directory has published, as far as plans need them: a plan line names a
-- provider by directory id or Care Inspectorate number, and the service resolves the number
-- to the id here. Filled only by the `assessment-providers` consumer from provider.registered
-- and provider.updated; the directory stays the record of everything else about a provider.
CREATE TABLE known_provider (
    provider_id               uuid PRIMARY KEY,
    care_inspectorate_number  text CHECK (care_inspectorate_number ~ '^CS[0-9]{10}$'),
    -- The directory's version of the record this row reflects; older events change nothing.
    version                   bigint NOT NULL CHECK (version >= 1),
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- One number, one service, as in the directory.
CREATE UNIQUE INDEX known_provider_by_number ON known_provider (care_inspectorate_number)
    WHERE care_inspectorate_number IS NOT NULL;
