-- Indicative budgets and support plans with their versions and lines.
--
-- A person has one plan, identified by the person; every change is a new version. Approved
-- and rejected versions are never updated (the service only inserts them, or moves a
-- draft or submitted version on), and every version keeps the day it was recorded, so
-- "the plan as known on a date" stays answerable.

-- Budgets as set, newest last; the current one is the latest.
CREATE TABLE indicative_budget (
    id           uuid PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES person (id),
    method       text NOT NULL CHECK (method IN ('resource_allocation', 'hours_at_rates', 'set_by_hand')),
    weekly       numeric(14, 2) NOT NULL CHECK (weekly >= 0),
    -- [{"description": "...", "points": 3 | null, "amount": "12.50" | null}]
    breakdown    jsonb NOT NULL CHECK (jsonb_typeof(breakdown) = 'array'),
    set_on       date NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL
);

CREATE INDEX indicative_budget_by_person ON indicative_budget (person_id, recorded_at DESC);

CREATE TABLE plan_version (
    person_id           uuid NOT NULL REFERENCES person (id),
    version             integer NOT NULL CHECK (version >= 1),
    authority           text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    effective_from      date NOT NULL,
    recorded_on         date NOT NULL,
    status              text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    submitted_on        date,
    approved_on         date,
    approved_as         text CHECK (approved_as IN ('practitioner', 'team-manager', 'panel')),
    approved_weekly     numeric(14, 2) CHECK (approved_weekly >= 0),
    rejected_on         date,
    rejection_reason    text CHECK (char_length(rejection_reason) BETWEEN 1 AND 2000),
    over_budget_reason  text CHECK (char_length(over_budget_reason) BETWEEN 1 AND 2000),
    -- When an approved version is next reviewed (approval date + the policy's interval).
    review_due          date CHECK (review_due IS NULL OR status = 'approved'),
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    recorded_by         text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text NOT NULL,
    PRIMARY KEY (person_id, version),
    -- Each status carries exactly what it needs.
    CHECK (
        CASE status
            WHEN 'draft' THEN submitted_on IS NULL AND approved_on IS NULL AND rejected_on IS NULL
            WHEN 'submitted' THEN submitted_on IS NOT NULL AND approved_on IS NULL AND rejected_on IS NULL
            WHEN 'approved' THEN approved_on IS NOT NULL AND approved_as IS NOT NULL
                AND approved_weekly IS NOT NULL AND rejected_on IS NULL
            WHEN 'rejected' THEN rejected_on IS NOT NULL AND rejection_reason IS NOT NULL
                AND approved_on IS NULL
        END
    )
);

-- At most one version of a plan is open (a draft or submitted) at a time.
CREATE UNIQUE INDEX plan_version_one_open ON plan_version (person_id)
    WHERE status IN ('draft', 'submitted');

CREATE INDEX plan_version_by_authority ON plan_version (authority, status);

CREATE TABLE plan_line (
    person_id       uuid NOT NULL,
    version         integer NOT NULL,
    number          integer NOT NULL CHECK (number >= 1),
    support_type    text NOT NULL CHECK (support_type IN (
                        'personal_care', 'day_support', 'short_breaks', 'social_support',
                        'equipment', 'carer_wellbeing', 'other')),
    -- The amount as given: weekly or annual (amount), or hours a week at a rate.
    amount_kind     text NOT NULL CHECK (amount_kind IN ('weekly', 'annual', 'hours_at_rate')),
    amount          numeric(14, 2) CHECK (amount > 0),
    hours_per_week  numeric(5, 2) CHECK (hours_per_week > 0 AND hours_per_week <= 168),
    hourly_rate     numeric(14, 2) CHECK (hourly_rate > 0),
    -- The exact weekly amount to 4 places, for reading by hand and for reports.
    weekly          numeric(14, 4) NOT NULL CHECK (weekly > 0),
    arrangement     text NOT NULL CHECK (arrangement IN (
                        'direct_payment', 'person_directed', 'authority_arranged')),
    -- A directory provider id or a Care Inspectorate number, when chosen.
    provider        text CHECK (provider ~ '^(CS[0-9]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'),
    holding_model   text CHECK (holding_model IN ('third_party', 'provider', 'authority')),
    holder          text,
    start_date      date NOT NULL,
    end_date        date CHECK (end_date >= start_date),
    PRIMARY KEY (person_id, version, number),
    FOREIGN KEY (person_id, version) REFERENCES plan_version (person_id, version),
    CHECK (
        CASE amount_kind
            WHEN 'hours_at_rate' THEN amount IS NULL AND hours_per_week IS NOT NULL AND hourly_rate IS NOT NULL
            ELSE amount IS NOT NULL AND hours_per_week IS NULL AND hourly_rate IS NULL
        END
    ),
    -- Only option 2 lines have a holder; a third party is named, the others are not.
    CHECK (arrangement = 'person_directed' OR (holding_model IS NULL AND holder IS NULL)),
    CHECK (arrangement <> 'direct_payment' OR provider IS NULL),
    CHECK ((holding_model = 'third_party') = (holder IS NOT NULL) OR holding_model IS NULL AND holder IS NULL)
);
