-- Payments, fifth part: what providers report they delivered, for agreements whose payment
-- follows it (actuals, in arrears). Reports are never changed: a correction is a new
-- revision of the period's report, which replaces the earlier one from its own day.

CREATE TABLE actual_report (
    agreement_id    uuid NOT NULL REFERENCES schedule (agreement_id),
    period_start    date NOT NULL,
    revision        integer NOT NULL CHECK (revision >= 1),
    period_end      date NOT NULL CHECK (period_end >= period_start),
    reported_on     date NOT NULL CHECK (reported_on > period_end),
    reported_by     text NOT NULL CHECK (length(reported_by) BETWEEN 1 AND 128),
    -- What the period pays: the lines reported, and the lines not reported (the fee among
    -- them) at their planned amount.
    total           numeric(14, 2) NOT NULL CHECK (total >= 0),
    -- The reported support lines, and what the plan had for the same lines.
    reported        numeric(14, 2) NOT NULL CHECK (reported >= 0),
    planned         numeric(14, 2) NOT NULL CHECK (planned >= 0),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, period_start, revision)
);

CREATE TABLE actual_line (
    agreement_id    uuid NOT NULL,
    period_start    date NOT NULL,
    revision        integer NOT NULL,
    plan_line       integer NOT NULL CHECK (plan_line >= 1),
    amount          numeric(14, 2) NOT NULL CHECK (amount >= 0),
    planned         numeric(14, 2) NOT NULL CHECK (planned >= 0),
    PRIMARY KEY (agreement_id, period_start, revision, plan_line),
    FOREIGN KEY (agreement_id, period_start, revision)
        REFERENCES actual_report (agreement_id, period_start, revision)
);

CREATE FUNCTION refuse_actuals_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a report of delivery is never changed or removed; a correction is a new revision';
END;
$$;

CREATE TRIGGER actual_report_is_history BEFORE UPDATE OR DELETE ON actual_report
    FOR EACH ROW EXECUTE FUNCTION refuse_actuals_change();
CREATE TRIGGER actual_line_is_history BEFORE UPDATE OR DELETE ON actual_line
    FOR EACH ROW EXECUTE FUNCTION refuse_actuals_change();

-- A run of consecutive periods whose delivery was beyond the agreement's tolerance, by its
-- first period, once variance.persistent has been raised for it: raised once per run.
CREATE TABLE variance_alert (
    agreement_id    uuid NOT NULL REFERENCES schedule (agreement_id),
    first_period    date NOT NULL,
    raised_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, first_period)
);
