-- Payments, fourth part: bank details. The authority's own account a run pays from, each
-- payee's account as the authority's finance staff entered it, and what each run paid each
-- payee (its remittance). Bank details are held only here: never in events or logs.

-- The account a run's bank files pay from, and the Bacs service user number the bank
-- issued to the authority. All or none.
ALTER TABLE authority_settings
    ADD COLUMN paying_name text CHECK (paying_name ~ '^[A-Za-z0-9 .&/''(),-]{1,70}$'),
    ADD COLUMN paying_sort_code text CHECK (paying_sort_code ~ '^[0-9]{6}$'),
    ADD COLUMN paying_account_number text CHECK (paying_account_number ~ '^[0-9]{8}$'),
    ADD COLUMN paying_account_name text CHECK (paying_account_name ~ '^[A-Za-z0-9 .&/''(),-]{1,70}$'),
    ADD COLUMN service_user_number text CHECK (service_user_number ~ '^[0-9]{6}$'),
    ADD CONSTRAINT paying_account_whole CHECK (
        (paying_name IS NULL) = (paying_sort_code IS NULL)
        AND (paying_name IS NULL) = (paying_account_number IS NULL)
        AND (paying_name IS NULL) = (paying_account_name IS NULL)
        AND (paying_name IS NULL) = (service_user_number IS NULL));

-- Every version of a payee's bank details with an authority, never changed: a change of
-- account (the way mandate fraud arrives) stays on record with who made it and when. The
-- current details are the highest version.
CREATE TABLE payee_bank_account (
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    payee_id        uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    sort_code       text NOT NULL CHECK (sort_code ~ '^[0-9]{6}$'),
    account_number  text NOT NULL CHECK (account_number ~ '^[0-9]{8}$'),
    account_name    text NOT NULL CHECK (account_name ~ '^[A-Za-z0-9 .&/''(),-]{1,70}$'),
    -- What the Vocalink modulus check said: valid; not_checked (the sort code is in no
    -- range of the table, so no check applies); no_table (the operator supplied none).
    modulus         text NOT NULL CHECK (modulus IN ('valid', 'not_checked', 'no_table')),
    entered_by      text NOT NULL CHECK (length(entered_by) BETWEEN 1 AND 128),
    entered_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority, payee_id, version)
);

CREATE FUNCTION refuse_bank_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a payee''s bank details are never changed or removed; new details are a new version';
END;
$$;

CREATE TRIGGER payee_bank_account_is_history BEFORE UPDATE OR DELETE ON payee_bank_account
    FOR EACH ROW EXECUTE FUNCTION refuse_bank_history_change();

-- What a run paid one payee: one remittance, with the bank details the run paid to (the
-- version current when the run first wrote its files, so a run finished again pays the
-- same account). `issued` turns true in the transaction that enqueues remittance.issued.
CREATE TABLE remittance (
    run_id          uuid NOT NULL REFERENCES payment_run (run_id),
    payee_id        uuid NOT NULL,
    -- The reference the payee sees on its bank statement and on the remittance.
    number          text NOT NULL UNIQUE CHECK (number ~ '^[A-Z0-9-]{6,18}$'),
    payee_kind      text NOT NULL CHECK (payee_kind IN ('provider', 'holder')),
    bank_version    integer NOT NULL CHECK (bank_version >= 1),
    items           integer NOT NULL CHECK (items >= 1),
    total           numeric(14, 2) NOT NULL CHECK (total > 0),
    PRIMARY KEY (run_id, payee_id)
);

CREATE INDEX remittance_by_payee ON remittance (payee_id, run_id);

-- Remittance numbers: short, unique and readable over the phone ("R000001234").
CREATE SEQUENCE remittance_number;

-- Instalments a run found due but could not pay because the authority holds no bank
-- account for the payee: they stay due, and the run's summary names the payee. One row per
-- schedule, replaced when planning is done again.
CREATE TABLE run_held (
    run_id          uuid NOT NULL REFERENCES payment_run (run_id),
    agreement_id    uuid NOT NULL REFERENCES schedule (agreement_id),
    payee_id        uuid NOT NULL,
    instalments     integer NOT NULL CHECK (instalments >= 1),
    total           numeric(14, 2) NOT NULL CHECK (total > 0),
    PRIMARY KEY (run_id, agreement_id)
);
