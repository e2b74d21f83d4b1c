-- Payments, sixth part: what a run pays from and when, fixed when the run starts, so a run
-- finished again writes the same bank files whatever has changed meanwhile; the payee bank
-- details each run pays to, fixed when it plans; every change of the paying account kept.

ALTER TABLE payment_run
    ADD COLUMN paying_name text,
    ADD COLUMN paying_sort_code text CHECK (paying_sort_code ~ '^[0-9]{6}$'),
    ADD COLUMN paying_account_number text CHECK (paying_account_number ~ '^[0-9]{8}$'),
    ADD COLUMN paying_account_name text,
    ADD COLUMN service_user_number text CHECK (service_user_number ~ '^[0-9]{6}$'),
    -- The Bacs processing day, and the day payees' banks credit them (the working day
    -- after): on or after the run's date, and never sooner than a file sent today allows.
    ADD COLUMN processing_date date,
    ADD COLUMN credit_date date CHECK (credit_date > processing_date);

-- The bank details a run pays each payee to: the version current when the run chose the
-- payee's instalments. A change afterwards applies from the next run.
CREATE TABLE run_payee (
    run_id          uuid NOT NULL REFERENCES payment_run (run_id),
    payee_id        uuid NOT NULL,
    bank_version    integer NOT NULL CHECK (bank_version >= 1),
    PRIMARY KEY (run_id, payee_id)
);

-- Every paying account an authority's finance staff set, with who and when.
CREATE TABLE paying_account_change (
    authority               text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    changed_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    changed_by              text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 128),
    paying_name             text NOT NULL,
    paying_sort_code        text NOT NULL,
    paying_account_number   text NOT NULL,
    paying_account_name     text NOT NULL,
    service_user_number     text NOT NULL,
    PRIMARY KEY (authority, changed_at)
);

-- Remittances and journals read a run's instalments whether posted or not.
CREATE INDEX instalment_payment_of_run ON instalment_payment (run_id);

COMMENT ON TABLE remittance IS 'What a run paid one payee; remittance.issued goes out with the run''s completion.';
