-- The ISF ledger: funds, their accounts, transfers, the ends of pending transfers, and one
-- entry per account per posted transfer. Amounts are whole pence (bigint).
--
-- History is append-only: transfers, resolutions and entries are never updated or
-- removed (a mistake is corrected by a reversing transfer). The only rows that change are
-- each account's running sums, under a row lock taken in account id order, and a fund's
-- closing date, set once.

CREATE TABLE fund (
    id                      uuid PRIMARY KEY,
    authority               text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    person_id               uuid NOT NULL,
    holding_model           text NOT NULL
                            CHECK (holding_model IN ('third_party', 'provider', 'authority')),
    -- The provider or third party's id, or the authority's own id when it holds the fund.
    holder_id               text NOT NULL CHECK (length(holder_id) BETWEEN 1 AND 64),
    weekly_budget_pence     bigint NOT NULL CHECK (weekly_budget_pence >= 0),
    overdraft_limit_pence   bigint NOT NULL CHECK (overdraft_limit_pence >= 0),
    opened_on               date NOT NULL,
    opened_by               text NOT NULL,
    closed_on               date,
    closed_by               text,
    CHECK ((closed_on IS NULL) = (closed_by IS NULL))
);

-- One open fund per person per holder.
CREATE UNIQUE INDEX fund_open_per_person_and_holder ON fund (person_id, holder_id)
    WHERE closed_on IS NULL;
CREATE INDEX fund_by_authority ON fund (authority);

CREATE FUNCTION fund_closes_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'funds are never removed; close them';
    END IF;
    IF OLD.closed_on IS NOT NULL OR NEW.closed_on IS NULL
       OR (NEW.id, NEW.authority, NEW.person_id, NEW.holding_model, NEW.holder_id,
           NEW.weekly_budget_pence, NEW.overdraft_limit_pence, NEW.opened_on, NEW.opened_by)
          IS DISTINCT FROM
          (OLD.id, OLD.authority, OLD.person_id, OLD.holding_model, OLD.holder_id,
           OLD.weekly_budget_pence, OLD.overdraft_limit_pence, OLD.opened_on, OLD.opened_by)
    THEN
        RAISE EXCEPTION 'a fund changes only by closing, once';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER fund_closes_once BEFORE UPDATE OR DELETE ON fund
    FOR EACH ROW EXECUTE FUNCTION fund_closes_once();

CREATE TABLE account (
    id              uuid PRIMARY KEY,
    fund_id         uuid NOT NULL REFERENCES fund (id),
    kind            text NOT NULL CHECK (kind IN ('fund_balance', 'authority_funding',
                        'payable', 'management_fee', 'top_up', 'one_off_purchase', 'recovery')),
    -- Whom a payable account pays; only payables have one.
    payee_id        uuid,
    debits_posted   bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted  bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending  bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    -- How many times the sums changed.
    version         bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
    CHECK ((kind = 'payable') = (payee_id IS NOT NULL))
);

CREATE UNIQUE INDEX account_one_per_kind ON account (fund_id, kind) WHERE kind <> 'payable';
CREATE UNIQUE INDEX account_one_per_payee ON account (fund_id, payee_id) WHERE kind = 'payable';
CREATE INDEX account_by_payee ON account (payee_id) WHERE payee_id IS NOT NULL;

CREATE FUNCTION account_sums_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'accounts are never removed';
    END IF;
    IF (NEW.id, NEW.fund_id, NEW.kind, NEW.payee_id)
       IS DISTINCT FROM (OLD.id, OLD.fund_id, OLD.kind, OLD.payee_id)
       OR NEW.version <> OLD.version + 1 THEN
        RAISE EXCEPTION 'only an account''s sums change, one version at a time';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER account_sums_only BEFORE UPDATE OR DELETE ON account
    FOR EACH ROW EXECUTE FUNCTION account_sums_only();

CREATE TABLE transfer (
    -- The caller's idempotency key.
    id                  uuid PRIMARY KEY,
    -- The request that recorded it; one `ledger.posted` per batch.
    batch_id            uuid NOT NULL,
    -- The funds of the debit and the credit account (the same but for a closing move).
    fund_id             uuid NOT NULL REFERENCES fund (id),
    credit_fund_id      uuid NOT NULL REFERENCES fund (id),
    debit_account_id    uuid NOT NULL REFERENCES account (id),
    credit_account_id   uuid NOT NULL REFERENCES account (id),
    amount_pence        bigint NOT NULL CHECK (amount_pence > 0),
    category            text NOT NULL CHECK (category IN ('funding', 'support_payment',
                            'management_fee', 'top_up', 'one_off_purchase', 'recovery',
                            'adjustment', 'closure')),
    reference           text NOT NULL CHECK (length(reference) <= 200),
    note                text NOT NULL CHECK (length(note) <= 1000),
    pending             boolean NOT NULL,
    -- A transfer is reversed once.
    reverses_id         uuid UNIQUE REFERENCES transfer (id),
    created_at          timestamptz NOT NULL,
    created_on          date NOT NULL,
    created_by          text NOT NULL,
    -- The order of recording, for listing.
    seq                 bigint GENERATED ALWAYS AS IDENTITY,
    CHECK (debit_account_id <> credit_account_id),
    CHECK (reverses_id IS NULL OR NOT pending)
);

CREATE INDEX transfer_by_fund ON transfer (fund_id, seq);
CREATE INDEX transfer_by_credit_fund ON transfer (credit_fund_id, seq);

-- The one end of a pending transfer: its primary key makes it once.
CREATE TABLE pending_resolution (
    transfer_id     uuid PRIMARY KEY REFERENCES transfer (id),
    outcome         text NOT NULL CHECK (outcome IN ('posted', 'voided')),
    resolved_at     timestamptz NOT NULL,
    resolved_on     date NOT NULL,
    resolved_by     text NOT NULL
);

-- One row per account per posted movement: credits positive, debits negative, so an
-- account's balance at the end of a day is the sum of its entries up to that day.
CREATE TABLE entry (
    transfer_id     uuid NOT NULL REFERENCES transfer (id),
    account_id      uuid NOT NULL REFERENCES account (id),
    amount_pence    bigint NOT NULL CHECK (amount_pence <> 0),
    posted_at       timestamptz NOT NULL,
    posted_on       date NOT NULL,
    PRIMARY KEY (transfer_id, account_id)
);

CREATE INDEX entry_by_account_and_day ON entry (account_id, posted_on) INCLUDE (amount_pence);

CREATE FUNCTION refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger history is never changed or removed; correct it with a reversing transfer';
END;
$$;

CREATE TRIGGER transfer_is_history BEFORE UPDATE OR DELETE ON transfer
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER transfer_is_kept BEFORE TRUNCATE ON transfer
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER resolution_is_history BEFORE UPDATE OR DELETE ON pending_resolution
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER entry_is_history BEFORE UPDATE OR DELETE ON entry
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER entry_is_kept BEFORE TRUNCATE ON entry
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
