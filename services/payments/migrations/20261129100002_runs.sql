-- Payments, second part: payment runs, the instalments they pay, and the ledger funds the
-- money goes through.

-- The ledger fund of a person with a holder (the third party, the provider, or '' for the
-- authority itself), and the accounts a run posts to. Payments opens the fund in the
-- ledger the first time a run pays into it, under an id derived from this key, so a run
-- that dies after opening it finds the same fund again.
CREATE TABLE fund_link (
    authority           text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    person_id           uuid NOT NULL,
    holder_key          text NOT NULL CHECK (holder_key = '' OR holder_key ~ '^[0-9a-f-]{36}$'),
    fund_id             uuid NOT NULL UNIQUE,
    funding_account_id  uuid NOT NULL,
    balance_account_id  uuid NOT NULL,
    PRIMARY KEY (authority, person_id, holder_key)
);

-- The payable account a fund pays a payee from (authority-held funds pay providers
-- directly).
CREATE TABLE fund_payee (
    fund_id             uuid NOT NULL REFERENCES fund_link (fund_id),
    payee_id            uuid NOT NULL,
    payable_account_id  uuid NOT NULL,
    PRIMARY KEY (fund_id, payee_id)
);

-- A payment run of one authority for one date. At most one run of an authority is
-- unfinished at a time: a run killed at any point is finished by running it again.
CREATE TABLE payment_run (
    run_id          uuid PRIMARY KEY,
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    run_date        date NOT NULL,
    -- planning: instalments due are being chosen; posting: they are being posted to the
    -- ledger; completed: every one is posted.
    status          text NOT NULL CHECK (status IN ('planning', 'posting', 'completed')),
    requested_by    text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 128),
    started_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    instalments     integer CHECK (instalments >= 0),
    payees          integer CHECK (payees >= 0),
    total           numeric(14, 2) CHECK (total >= 0),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CHECK ((status = 'completed') = (instalments IS NOT NULL AND payees IS NOT NULL AND total IS NOT NULL))
);

CREATE UNIQUE INDEX one_unfinished_run_per_authority ON payment_run (authority)
    WHERE status <> 'completed';

-- Each instalment of a schedule, paid once: by the run that chose it. An instalment of 0.00
-- is settled without a transfer. `posted` turns true once the ledger holds its transfers.
CREATE TABLE instalment_payment (
    agreement_id    uuid NOT NULL REFERENCES schedule (agreement_id),
    period_start    date NOT NULL,
    period_end      date NOT NULL CHECK (period_end >= period_start),
    due_date        date NOT NULL,
    base            numeric(14, 2) NOT NULL,
    adjustment      numeric(14, 2) NOT NULL,
    amount          numeric(14, 2) NOT NULL CHECK (amount >= 0),
    run_id          uuid NOT NULL REFERENCES payment_run (run_id),
    posted          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (agreement_id, period_start),
    CHECK (amount = base + adjustment)
);

CREATE INDEX instalment_payment_by_run ON instalment_payment (run_id) WHERE NOT posted;
CREATE INDEX schedule_by_authority ON schedule (authority, agreement_id);
