-- Payments, first part: a schedule for every agreed agreement, with every version of the
-- agreement as it was recorded, so that the schedule rule can ask what was known on any
-- due date.
--
-- Runs inside the service's own schema. Payments never reads contracts' tables: what it
-- knows of an agreement is what contracts' agreement events published, kept here as they
-- arrived. Versions and ends are stored once and never changed.

-- The authority's payment settings, set by its finance staff. The four-weekly calendar's
-- anchor is copied into each schedule when it is made, so a later change of anchor never
-- re-cuts the periods of a schedule already paying.
CREATE TABLE authority_settings (
    authority       text PRIMARY KEY CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    anchor_date     date NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One schedule per agreement: who is paid and on what calendar.
CREATE TABLE schedule (
    agreement_id     uuid PRIMARY KEY,
    authority        text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    person_id        uuid NOT NULL,
    provider_id      uuid NOT NULL,
    holding_model    text NOT NULL CHECK (holding_model IN ('third_party', 'provider', 'authority')),
    -- Only for a third-party fund.
    holder_id        uuid,
    payee_kind       text NOT NULL CHECK (payee_kind IN ('provider', 'holder')),
    payee_id         uuid NOT NULL,
    frequency        text NOT NULL CHECK (frequency IN ('four_weekly', 'quarterly', 'monthly')),
    -- The four-weekly calendar's anchor; only for four-weekly.
    anchor_date      date,
    timing           text NOT NULL CHECK (timing IN ('advance', 'arrears')),
    payment_lag_days integer NOT NULL CHECK (payment_lag_days BETWEEN 0 AND 90),
    basis            text NOT NULL CHECK (basis IN ('scheduled', 'actuals')),
    flex_tolerance_percent numeric(5, 2) NOT NULL
        CHECK (flex_tolerance_percent BETWEEN 0 AND 100),
    -- Counts the changes published as schedule.changed (the event's aggregate version).
    revision         integer NOT NULL DEFAULT 0 CHECK (revision >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((frequency = 'four_weekly') = (anchor_date IS NOT NULL)),
    CHECK ((holding_model = 'third_party') = (holder_id IS NOT NULL)),
    CHECK ((payee_kind = 'holder') = (holding_model = 'third_party')),
    CHECK (payee_kind <> 'holder' OR payee_id = holder_id),
    CHECK (payee_kind <> 'provider' OR payee_id = provider_id)
);

CREATE INDEX schedule_by_person ON schedule (authority, person_id);
CREATE INDEX schedule_by_payee ON schedule (payee_id);

-- Each agreed version of an agreement: from `effective_from` its lines are these, as known
-- from `recorded_on`. What is in force on a day is the highest-numbered version effective
-- on or before it.
CREATE TABLE schedule_version (
    agreement_id     uuid NOT NULL REFERENCES schedule (agreement_id),
    version          integer NOT NULL CHECK (version >= 1),
    effective_from   date NOT NULL,
    recorded_on      date NOT NULL,
    -- The event that brought it (agreement.signed, agreement.varied, rate.uplifted).
    event_type       text NOT NULL CHECK (event_type IN ('agreement.signed', 'agreement.varied', 'rate.uplifted')),
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, version)
);

-- A version's lines: each agreement line, and the management fee when it is paid on top of
-- the budget, accruing weekly / 7 a day from start to end (both included).
CREATE TABLE schedule_line (
    agreement_id     uuid NOT NULL,
    version          integer NOT NULL,
    line_number      integer NOT NULL CHECK (line_number >= 0),
    kind             text NOT NULL CHECK (kind IN ('support', 'fee')),
    -- The plan line it funds; 0 for the fee.
    plan_line        integer NOT NULL CHECK (plan_line >= 0),
    support_type     text NOT NULL CHECK (length(support_type) <= 100),
    weekly           numeric(14, 2) NOT NULL CHECK (weekly >= 0),
    start_date       date NOT NULL,
    -- NULL for open-ended.
    end_date         date CHECK (end_date >= start_date),
    PRIMARY KEY (agreement_id, version, line_number),
    FOREIGN KEY (agreement_id, version) REFERENCES schedule_version (agreement_id, version),
    CHECK ((kind = 'fee') = (plan_line = 0))
);

-- The agreement's end: nothing accrues after `last_day`, as known from `recorded_on`. An
-- end may be brought forward by a later one with an earlier last day, so there may be
-- several; the earliest known governs. Kept even before the schedule exists (no foreign
-- key): an end that overtook its agreement's signing applies once the schedule is made.
CREATE TABLE schedule_end (
    agreement_id     uuid NOT NULL,
    last_day         date NOT NULL,
    recorded_on      date NOT NULL,
    cause            text NOT NULL CHECK (cause IN ('notice', 'plan_ended')),
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, last_day)
);

CREATE FUNCTION refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a schedule''s history is never changed or removed; a later version is a new row';
END;
$$;

CREATE TRIGGER schedule_version_is_history BEFORE UPDATE OR DELETE ON schedule_version
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER schedule_line_is_history BEFORE UPDATE OR DELETE ON schedule_line
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER schedule_end_is_history BEFORE UPDATE OR DELETE ON schedule_end
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
