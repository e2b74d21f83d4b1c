-- The provider directory: providers, their checks, Care Inspectorate grades and framework
-- membership per authority, and the history of changes to each provider.
--
-- Runs inside the service's own schema (its connections set search_path), so no name here
-- is schema-qualified. The CHECK constraints repeat the rules the service already enforces
-- in `domain/`: they are the last line of defence, not the place callers learn the rules.

-- Lower-cases every element, so that service types and localities can be matched without
-- regard to case through a GIN index. SQL-standard bodies are bound when created, so the
-- search_path of the caller cannot change what they mean.
CREATE FUNCTION fold_case(items text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ARRAY(SELECT lower(item) FROM unnest(items) AS item);

-- What text search looks at: the name weighs most, then service types and localities.
-- array_to_string is only STABLE in general but immutable for text[], which is all it
-- sees here; that is what lets a generated column use it.
CREATE FUNCTION provider_search_document(name text, service_types text[], localities text[])
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, array_to_string(service_types, ' ')), 'B')
        || setweight(to_tsvector('english'::regconfig, array_to_string(localities, ' ')), 'C');

CREATE TABLE provider (
    id                        uuid CONSTRAINT provider_pkey PRIMARY KEY,
    name                      text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    kind                      text NOT NULL CHECK (kind IN (
                                  'registered_care_service', 'voluntary_organisation',
                                  'micro_provider', 'self_employed_personal_assistant',
                                  'community_group', 'non_care_business')),
    -- Unique across providers: the import of the Care Inspectorate datastore is keyed on it.
    care_inspectorate_number  text
                              CONSTRAINT provider_care_inspectorate_number_key UNIQUE
                              CHECK (care_inspectorate_number ~ '^CS[0-9]{10}$'),
    service_types             text[] NOT NULL CHECK (cardinality(service_types) <= 50),
    localities                text[] NOT NULL CHECK (cardinality(localities) <= 50),
    capacity                  integer CHECK (capacity >= 0),
    holds_isfs                boolean NOT NULL,
    -- The management-fee policy: NULL kind means the provider has not stated one. Only the
    -- amounts of the stated kind are set (see provider_fee_fields_match_kind).
    fee_kind                  text CHECK (fee_kind IN (
                                  'none', 'flat_weekly', 'percentage', 'admin_hours',
                                  'included_in_hourly_rate')),
    fee_flat_weekly           numeric(14, 2) CHECK (fee_flat_weekly >= 0),
    fee_percentage            numeric(5, 2) CHECK (fee_percentage BETWEEN 0 AND 100),
    fee_admin_hours_per_week  numeric(5, 2) CHECK (fee_admin_hours_per_week > 0 AND fee_admin_hours_per_week <= 168),
    fee_admin_hourly_rate     numeric(14, 2) CHECK (fee_admin_hourly_rate >= 0),
    contact_email             text,
    contact_phone             text,
    -- The lowest current grade across key questions, kept by every write that touches
    -- grades; NULL when the provider has none. Search filters and sorts on it.
    min_grade                 smallint CHECK (min_grade BETWEEN 1 AND 6),
    -- Increases by one with every change; events carry it as the aggregate version.
    version                   bigint NOT NULL CHECK (version >= 1),
    registered_at             timestamptz NOT NULL DEFAULT now(),
    registered_by             text NOT NULL,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    updated_by                text NOT NULL,
    service_types_folded      text[] GENERATED ALWAYS AS (fold_case(service_types)) STORED,
    localities_folded         text[] GENERATED ALWAYS AS (fold_case(localities)) STORED,
    search_document           tsvector
                              GENERATED ALWAYS AS (provider_search_document(name, service_types, localities)) STORED,
    CONSTRAINT provider_fee_fields_match_kind CHECK (
        CASE fee_kind
            WHEN 'flat_weekly' THEN fee_flat_weekly IS NOT NULL
                AND fee_percentage IS NULL AND fee_admin_hours_per_week IS NULL AND fee_admin_hourly_rate IS NULL
            WHEN 'percentage' THEN fee_percentage IS NOT NULL
                AND fee_flat_weekly IS NULL AND fee_admin_hours_per_week IS NULL AND fee_admin_hourly_rate IS NULL
            WHEN 'admin_hours' THEN fee_admin_hours_per_week IS NOT NULL AND fee_admin_hourly_rate IS NOT NULL
                AND fee_flat_weekly IS NULL AND fee_percentage IS NULL
            ELSE fee_flat_weekly IS NULL AND fee_percentage IS NULL
                AND fee_admin_hours_per_week IS NULL AND fee_admin_hourly_rate IS NULL
        END
    )
);

CREATE INDEX provider_by_service_type ON provider USING gin (service_types_folded);
CREATE INDEX provider_by_locality ON provider USING gin (localities_folded);
CREATE INDEX provider_by_text ON provider USING gin (search_document);

-- One current check of each kind per provider; recording a kind again replaces it (the
-- replaced check stays visible in provider_change as a past version).
CREATE TABLE provider_check (
    provider_id  uuid NOT NULL REFERENCES provider (id),
    kind         text NOT NULL CHECK (kind IN (
                     'registration', 'pvg_membership', 'proof_of_self_employment',
                     'public_liability_insurance')),
    reference    text CHECK (char_length(reference) <= 100),
    checked_on   date NOT NULL,
    expires_on   date NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL,
    PRIMARY KEY (provider_id, kind),
    CHECK (expires_on >= checked_on)
);

-- Every inspection's grades, kept as history. The current grade of a key question is the
-- one from its latest inspection (current_grade below).
CREATE TABLE grade (
    provider_id   uuid NOT NULL REFERENCES provider (id),
    key_question  text NOT NULL CHECK (key_question IN (
                      'support_wellbeing', 'care_and_support_planning', 'setting',
                      'staff_team', 'leadership', 'care_play_and_learning')),
    grade         smallint NOT NULL CHECK (grade BETWEEN 1 AND 6),
    inspected_on  date NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    recorded_by   text NOT NULL,
    PRIMARY KEY (provider_id, key_question, inspected_on)
);

-- The one definition of "current grade": the latest inspection of each key question.
CREATE VIEW current_grade AS
    SELECT DISTINCT ON (provider_id, key_question)
           provider_id, key_question, grade, inspected_on
    FROM grade
    ORDER BY provider_id, key_question, inspected_on DESC;

-- A provider's standing with one authority. No row means off framework for that authority.
CREATE TABLE framework_membership (
    provider_id  uuid NOT NULL REFERENCES provider (id),
    authority    text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    status       text NOT NULL CHECK (status IN ('on_framework', 'open_list', 'off_framework')),
    set_at       timestamptz NOT NULL DEFAULT now(),
    set_by       text NOT NULL,
    PRIMARY KEY (provider_id, authority)
);

CREATE INDEX framework_membership_by_authority ON framework_membership (authority, status);

-- Who changed a provider, when, and what kind of change: one row per version.
CREATE TABLE provider_change (
    provider_id  uuid NOT NULL REFERENCES provider (id),
    version      bigint NOT NULL,
    change       text NOT NULL CHECK (change IN (
                     'registered', 'details', 'check', 'grades', 'framework_status', 'import')),
    changed_by   text NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, version)
);
