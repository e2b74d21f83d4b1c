-- Contracts, second part: the copies of approved plans that agreements are drafted from,
-- and the agreements themselves with their versions and signatures.
--
-- Runs inside the service's own schema. Contracts never reads assessment's tables: what it
-- knows of a plan is what assessment's plan events published, kept here as they arrived.

-- Each approved plan version as its event carried it. A version is stored once and never
-- changed: a replayed or repeated event for a version already here changes nothing.
CREATE TABLE plan_copy (
    person_id       uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    effective_from  date NOT NULL,
    recorded_on     date NOT NULL,
    ends_plan       boolean NOT NULL,
    -- The event that brought this version (plan.approved, plan.varied, ...).
    event_type      text NOT NULL,
    -- Every line as the event carried it (ended lines included), as a JSON array: the
    -- lines are read only as a whole, to draft from, so a table of their own buys nothing.
    lines           jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, version)
);

CREATE FUNCTION refuse_plan_copy_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plan copies are never changed or removed; a later version is a new row';
END;
$$;

CREATE TRIGGER plan_copy_immutable
    BEFORE UPDATE OR DELETE ON plan_copy
    FOR EACH ROW EXECUTE FUNCTION refuse_plan_copy_change();

-- An agreement between the person, a provider, the authority and (for a third-party fund)
-- the holder. What it says lives in its versions; this row is who it is between and where
-- it stands.
CREATE TABLE agreement (
    id              uuid PRIMARY KEY,
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    person_id       uuid NOT NULL,
    provider_id     uuid NOT NULL,
    holding_model   text NOT NULL CHECK (holding_model IN ('third_party', 'provider', 'authority')),
    holder_id       uuid,
    status          text NOT NULL CHECK (status IN ('draft', 'active', 'ended')),
    -- The plan lines it funds, so drafting from a later plan version skips them.
    funded_lines    integer[] NOT NULL CHECK (cardinality(funded_lines) BETWEEN 1 AND 50),
    -- The plan version the lines were taken from.
    plan_version    integer NOT NULL CHECK (plan_version >= 1),
    created         timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    CHECK ((holding_model = 'third_party') = (holder_id IS NOT NULL))
);

CREATE INDEX agreement_authority_idx ON agreement (authority, created, id);
CREATE INDEX agreement_person_idx ON agreement (person_id, created, id);
CREATE INDEX agreement_provider_idx ON agreement (provider_id, created, id);
CREATE INDEX agreement_holder_idx ON agreement (holder_id, created, id) WHERE holder_id IS NOT NULL;

-- What a version of an agreement says. The lines and terms are JSON read back through the
-- domain's validation; they are only ever read as a whole with their version.
CREATE TABLE agreement_version (
    agreement_id            uuid NOT NULL REFERENCES agreement (id),
    version                 integer NOT NULL CHECK (version >= 1),
    effective_from          date NOT NULL,
    recorded_on             date NOT NULL,
    lines                   jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    terms                   jsonb NOT NULL CHECK (jsonb_typeof(terms) = 'object'),
    outcomes                text NOT NULL CHECK (char_length(outcomes) BETWEEN 1 AND 600),
    representative_name     text CHECK (char_length(representative_name) BETWEEN 1 AND 200),
    representative_capacity text CHECK (representative_capacity IN (
                                'welfare_power_of_attorney', 'welfare_guardian', 'intervener',
                                'parent')),
    payee_kind              text NOT NULL CHECK (payee_kind IN ('provider', 'holder')),
    payee_id                uuid NOT NULL,
    rate_card_id            uuid,
    rate_card_version       integer,
    state                   text NOT NULL CHECK (state IN ('awaiting', 'agreed')),
    agreed_on               date,
    PRIMARY KEY (agreement_id, version),
    CHECK ((state = 'agreed') = (agreed_on IS NOT NULL)),
    CHECK ((representative_name IS NULL) = (representative_capacity IS NULL)),
    CHECK ((rate_card_id IS NULL) = (rate_card_version IS NULL))
);

-- One signature per party per version; signing again finds it and writes nothing.
CREATE TABLE agreement_signature (
    agreement_id    uuid NOT NULL,
    version         integer NOT NULL,
    role            text NOT NULL CHECK (role IN ('person', 'provider', 'authority', 'holder')),
    -- The organisation id (or the person's id) in the signer's token.
    signed_by       text NOT NULL,
    -- For the person: themselves, or the capacity of whoever signs for them.
    capacity        text CHECK (capacity IN (
                        'themselves', 'welfare_power_of_attorney', 'welfare_guardian',
                        'intervener', 'parent')),
    signed_on       date NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agreement_signature_role_key UNIQUE (agreement_id, version, role),
    FOREIGN KEY (agreement_id, version) REFERENCES agreement_version (agreement_id, version),
    CHECK ((role = 'person') = (capacity IS NOT NULL))
);
