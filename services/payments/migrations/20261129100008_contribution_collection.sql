-- Payments, eighth part: collecting the person's contribution. Each period's contribution
-- falls due in the person's fund on the schedule's own calendar (posted by payment runs,
-- once per period, the amount worked out cumulatively so a backdated change is put right on
-- the next period due); what the person paid is recorded as receipts, each posted into the
-- fund once; arrears beyond the authority's allowance raise `contribution.arrears` once per
-- crossing.

-- How many periods of unpaid contribution the authority allows before it is told.
ALTER TABLE authority_settings
    ADD COLUMN contribution_arrears_periods integer NOT NULL DEFAULT 2
        CHECK (contribution_arrears_periods BETWEEN 1 AND 13);

-- A period's contribution as it fell due: what the person owed for it, with any correction
-- of earlier periods (negative when a reduction gives back more than the period owes).
CREATE TABLE contribution_due (
    agreement_id     uuid NOT NULL REFERENCES schedule (agreement_id),
    period_start     date NOT NULL,
    period_end       date NOT NULL CHECK (period_end >= period_start),
    due_date         date NOT NULL,
    amount           numeric(14, 2) NOT NULL,
    -- The run that found it due.
    run_id           uuid NOT NULL REFERENCES payment_run (run_id),
    -- Set once the ledger has recorded it (nothing to record for 0.00).
    posted           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (agreement_id, period_start)
);

CREATE INDEX contribution_due_unposted ON contribution_due (agreement_id) WHERE NOT posted;

-- What the person paid, as the holder (or the authority's finance staff) recorded it. The
-- id is the caller's: recording the same receipt again records nothing.
CREATE TABLE contribution_receipt (
    id               uuid PRIMARY KEY,
    agreement_id     uuid NOT NULL REFERENCES schedule (agreement_id),
    amount           numeric(14, 2) NOT NULL CHECK (amount > 0 AND amount <= 100000),
    received_on      date NOT NULL,
    -- As on the holder's bank statement or receipt book.
    reference        text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
    recorded_by      text NOT NULL CHECK (length(recorded_by) BETWEEN 1 AND 200),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    -- Set once the ledger has recorded it in the person's fund.
    posted_at        timestamptz
);

CREATE INDEX contribution_receipt_by_agreement ON contribution_receipt (agreement_id);

-- Arrears the authority was told of: one open at a time per agreement, cleared once the
-- arrears fall back within the allowance.
CREATE TABLE contribution_arrears (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id     uuid NOT NULL REFERENCES schedule (agreement_id),
    raised_on        date NOT NULL,
    periods          integer NOT NULL CHECK (periods >= 1),
    outstanding      numeric(14, 2) NOT NULL CHECK (outstanding > 0),
    cleared_on       date CHECK (cleared_on >= raised_on)
);

CREATE UNIQUE INDEX contribution_arrears_one_open ON contribution_arrears (agreement_id)
    WHERE cleared_on IS NULL;
