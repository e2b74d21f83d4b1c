-- Contracts, first part: each authority's default terms, and providers' rate cards with
-- their versions (the card as first set, later cards and scheduled uplifts).
--
-- Runs inside the service's own schema (its connections set search_path), so no name here
-- is schema-qualified. The CHECK constraints repeat the rules the service already enforces
-- in `domain/`: they are the last line of defence, not the place callers learn the rules.

-- The terms an authority's agreements are drafted with. One row per authority, changed in
-- place: agreements copy the terms when drafted, so no agreement reads an older version.
CREATE TABLE contract_defaults (
    authority               text PRIMARY KEY CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    frequency               text NOT NULL CHECK (frequency IN (
                                'four_weekly', 'quarterly', 'monthly')),
    timing                  text NOT NULL CHECK (timing IN ('advance', 'arrears')),
    -- Days after the period's last day; only for arrears.
    lag_days                integer CHECK (lag_days BETWEEN 0 AND 90),
    basis                   text NOT NULL CHECK (basis IN ('scheduled', 'actuals')),
    flex_tolerance_percent  numeric(5, 2) NOT NULL
                                CHECK (flex_tolerance_percent BETWEEN 0 AND 100),
    fee_kind                text NOT NULL CHECK (fee_kind IN (
                                'none', 'flat_weekly', 'percentage', 'admin_hours',
                                'included_in_hourly_rate')),
    fee_flat_weekly         numeric(14, 2) CHECK (fee_flat_weekly > 0),
    fee_percentage          numeric(5, 2) CHECK (fee_percentage > 0 AND fee_percentage <= 100),
    fee_placement           text NOT NULL CHECK (fee_placement IN ('on_top', 'within_budget')),
    fee_admin_hours         numeric(5, 2) CHECK (fee_admin_hours > 0 AND fee_admin_hours <= 168),
    fee_admin_hourly_rate   numeric(14, 2) CHECK (fee_admin_hourly_rate > 0),
    notice_days             integer NOT NULL CHECK (notice_days BETWEEN 0 AND 365),
    review_after_months     integer NOT NULL CHECK (review_after_months BETWEEN 1 AND 60),
    -- Increases by one with every change.
    version                 bigint NOT NULL CHECK (version >= 1),
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    recorded_by             text NOT NULL,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              text NOT NULL,
    CHECK ((timing = 'arrears') = (lag_days IS NOT NULL)),
    -- Payment on reported delivery waits for the period to end.
    CHECK (basis = 'scheduled' OR timing = 'arrears'),
    -- Only the amounts of the chosen fee exist.
    CHECK ((fee_kind = 'flat_weekly') = (fee_flat_weekly IS NOT NULL)),
    CHECK ((fee_kind = 'percentage') = (fee_percentage IS NOT NULL)),
    CHECK ((fee_kind = 'admin_hours') = (fee_admin_hours IS NOT NULL)),
    CHECK ((fee_kind = 'admin_hours') = (fee_admin_hourly_rate IS NOT NULL)),
    CHECK (fee_kind = 'percentage' OR fee_placement = CASE
               WHEN fee_kind IN ('flat_weekly', 'admin_hours') THEN 'on_top'
               ELSE 'within_budget' END)
);

-- One card per provider and service type; what it says lives in its versions.
CREATE TABLE rate_card (
    id              uuid PRIMARY KEY,
    provider_id     uuid NOT NULL,
    service_type    text NOT NULL CHECK (char_length(service_type) BETWEEN 1 AND 200),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    recorded_by     text NOT NULL,
    CONSTRAINT rate_card_provider_service_type_key UNIQUE (provider_id, service_type)
);

-- The card from a date until a later version takes over. Never updated or deleted:
-- agreements priced on the card are paid at the version in force on each day, so the
-- rate "as it was" must stay answerable.
CREATE TABLE rate_card_version (
    rate_card_id    uuid NOT NULL REFERENCES rate_card (id),
    version         integer NOT NULL CHECK (version >= 1),
    effective_from  date NOT NULL,
    -- A card set again for the same provider and service type, or an uplift.
    cause           text NOT NULL CHECK (cause IN ('set', 'uplift')),
    -- The percentage of a percentage uplift; NULL for new values and for a card set.
    uplift_percent  numeric(5, 2) CHECK (uplift_percent > 0 AND uplift_percent <= 100),
    -- The sum of the version's components, kept so a reader need not add them up.
    hourly_rate     numeric(14, 2) NOT NULL CHECK (hourly_rate > 0),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    recorded_by     text NOT NULL,
    PRIMARY KEY (rate_card_id, version),
    CONSTRAINT rate_card_version_effective_from_key UNIQUE (rate_card_id, effective_from),
    CHECK (cause = 'uplift' OR uplift_percent IS NULL),
    -- The first version is always a card as set.
    CHECK (version > 1 OR cause = 'set')
);

CREATE TABLE rate_card_component (
    rate_card_id    uuid NOT NULL,
    version         integer NOT NULL,
    component       text NOT NULL CHECK (component IN (
                        'care_worker_wage', 'on_costs', 'travel', 'training', 'overheads',
                        'management', 'surplus')),
    hourly          numeric(14, 2) NOT NULL CHECK (hourly >= 0),
    PRIMARY KEY (rate_card_id, version, component),
    FOREIGN KEY (rate_card_id, version) REFERENCES rate_card_version (rate_card_id, version)
);

-- The history is immutable: a mistake is corrected by a later version, never by an edit.
CREATE FUNCTION refuse_rate_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rate card versions are never changed or removed; add a later version';
END;
$$;

CREATE TRIGGER rate_card_version_immutable
    BEFORE UPDATE OR DELETE ON rate_card_version
    FOR EACH ROW EXECUTE FUNCTION refuse_rate_history_change();

CREATE TRIGGER rate_card_component_immutable
    BEFORE UPDATE OR DELETE ON rate_card_component
    FOR EACH ROW EXECUTE FUNCTION refuse_rate_history_change();
