-- Every state a grade entry passes through, kept for good: recorded, corrected (the same
-- key question and date recorded again), withdrawn, brought back. The grade table holds
-- each entry as it is now; this trail keeps what it was, so a correction or a reinstated
-- withdrawal never erases the earlier value or who withdrew it and why. Append-only.
CREATE TABLE grade_audit (
    position          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id       uuid NOT NULL,
    key_question      text NOT NULL,
    inspected_on      date NOT NULL,
    grade             smallint NOT NULL,
    recorded_by       text NOT NULL,
    withdrawn_at      timestamptz,
    withdrawn_by      text,
    withdrawn_reason  text,
    written           text NOT NULL CHECK (written IN ('INSERT', 'UPDATE')),
    written_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX grade_audit_by_provider ON grade_audit (provider_id, position);

CREATE FUNCTION audit_grade() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO grade_audit (provider_id, key_question, inspected_on, grade, recorded_by,
                             withdrawn_at, withdrawn_by, withdrawn_reason, written)
    VALUES (NEW.provider_id, NEW.key_question, NEW.inspected_on, NEW.grade, NEW.recorded_by,
            NEW.withdrawn_at, NEW.withdrawn_by, NEW.withdrawn_reason, TG_OP);
    RETURN NULL;
END;
$$;

CREATE TRIGGER grade_is_audited
    AFTER INSERT OR UPDATE ON grade
    FOR EACH ROW EXECUTE FUNCTION audit_grade();

CREATE FUNCTION refuse_grade_audit_rewrite() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grade_audit is append-only';
END;
$$;

CREATE TRIGGER grade_audit_is_append_only
    BEFORE UPDATE OR DELETE ON grade_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_grade_audit_rewrite();

-- What was there before the trail began.
INSERT INTO grade_audit (provider_id, key_question, inspected_on, grade, recorded_by,
                         withdrawn_at, withdrawn_by, withdrawn_reason, written)
SELECT provider_id, key_question, inspected_on, grade, recorded_by,
       withdrawn_at, withdrawn_by, withdrawn_reason, 'INSERT'
FROM grade;
