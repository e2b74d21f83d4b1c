-- Assessment and budgeting: people, the authority's effective-dated policy, assessments,
-- and the audit trail of every change to and read of a person's record.
--
-- Runs inside the service's own schema (its connections set search_path), so no name here
-- is schema-qualified. The CHECK constraints repeat the rules the service already enforces
-- in `domain/`: they are the last line of defence, not the place callers learn the rules.

-- The minimum kept about a person; the case system stays the record of everything else.
CREATE TABLE person (
    id              uuid PRIMARY KEY,
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    case_reference  text NOT NULL CHECK (case_reference ~ '^[!-~]{1,50}$'),
    display_name    text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    date_of_birth   date NOT NULL CHECK (date_of_birth >= DATE '1900-01-01'),
    locality        text NOT NULL CHECK (char_length(locality) BETWEEN 1 AND 200),
    client_groups   text[] NOT NULL CHECK (
                        cardinality(client_groups) BETWEEN 1 AND 12
                        AND client_groups <@ ARRAY[
                            'dementia', 'mental_health', 'learning_disability',
                            'physical_sensory_disability', 'drugs', 'alcohol',
                            'palliative_care', 'carer', 'elderly_frail',
                            'neurological_condition', 'autism', 'other_vulnerable']::text[]),
    -- Increases by one with every change; events carry it as the aggregate version.
    version         bigint NOT NULL CHECK (version >= 1),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    recorded_by     text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL,
    CONSTRAINT person_case_reference_key UNIQUE (authority, case_reference)
);

-- An authority's policy from a date until a later one takes over. Rows are never updated:
-- the policy "as it was" on any date stays answerable. The nested parts (RAS questions and
-- bands, approval limits) are JSON read back through the same validation that admitted them.
CREATE TABLE policy (
    authority               text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    effective_from          date NOT NULL,
    eligibility_threshold   text NOT NULL CHECK (eligibility_threshold IN (
                                'critical', 'substantial', 'moderate', 'low')),
    -- NULL when the authority uses no RAS.
    ras                     jsonb CHECK (ras IS NULL OR jsonb_typeof(ras) = 'object'),
    standard_hourly_rate    numeric(14, 2) CHECK (standard_hourly_rate >= 0),
    approval_limits         jsonb NOT NULL CHECK (jsonb_typeof(approval_limits) = 'object'),
    backdating_days         integer NOT NULL CHECK (backdating_days BETWEEN 0 AND 3650),
    review_interval_months  integer CHECK (review_interval_months BETWEEN 1 AND 60),
    review_interval_days    integer CHECK (review_interval_days BETWEEN 1 AND 1826),
    sending_location        text NOT NULL CHECK (sending_location ~ '^[A-Za-z0-9]{1,10}$'),
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    recorded_by             text NOT NULL,
    PRIMARY KEY (authority, effective_from),
    -- One unit or the other.
    CHECK ((review_interval_months IS NULL) <> (review_interval_days IS NULL))
);

CREATE TABLE assessment (
    id                   uuid PRIMARY KEY,
    person_id            uuid NOT NULL REFERENCES person (id),
    outcomes             text[] NOT NULL CHECK (cardinality(outcomes) BETWEEN 1 AND 50),
    needs                text[] NOT NULL CHECK (cardinality(needs) <= 50),
    eligibility          text NOT NULL CHECK (eligibility IN (
                             'critical', 'substantial', 'moderate', 'low', 'no_risk')),
    eligible             boolean NOT NULL,
    decision_reason      text NOT NULL,
    community_resources  text[] NOT NULL CHECK (cardinality(community_resources) <= 50),
    assessed_on          date NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    recorded_by          text NOT NULL,
    CHECK (eligibility <> 'no_risk' OR NOT eligible)
);

CREATE INDEX assessment_by_person ON assessment (person_id, assessed_on DESC);

-- Who read or changed a person's record, when, and what they did (S6). Append-only: the
-- service only inserts, and the trigger below refuses updates and deletes.
CREATE TABLE person_audit (
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES person (id),
    authority   text NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX person_audit_by_person ON person_audit (person_id, position);

CREATE FUNCTION refuse_audit_rewrite() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'person_audit is append-only';
END;
$$;

CREATE TRIGGER person_audit_is_append_only
    BEFORE UPDATE OR DELETE ON person_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_rewrite();
