-- Commissioning staff withdraw a grade recorded in error (WithdrawGrades). The entry stays
-- in the history with who withdrew it, when and why; it no longer counts, so the previous
-- inspection's grade of that key question is current again.
ALTER TABLE grade
    ADD COLUMN withdrawn_at     timestamptz,
    ADD COLUMN withdrawn_by     text,
    ADD COLUMN withdrawn_reason text CHECK (char_length(withdrawn_reason) BETWEEN 1 AND 500),
    -- A withdrawal is all three or none of them.
    ADD CONSTRAINT grade_withdrawal_is_complete CHECK (
        (withdrawn_at IS NULL) = (withdrawn_by IS NULL)
        AND (withdrawn_at IS NULL) = (withdrawn_reason IS NULL));

-- The one definition of "current grade": the latest inspection of each key question whose
-- grade has not been withdrawn.
CREATE OR REPLACE VIEW current_grade AS
    SELECT DISTINCT ON (provider_id, key_question)
           provider_id, key_question, grade, inspected_on
    FROM grade
    WHERE withdrawn_at IS NULL
    ORDER BY provider_id, key_question, inspected_on DESC;

ALTER TABLE provider_change DROP CONSTRAINT provider_change_change_check;
ALTER TABLE provider_change ADD CONSTRAINT provider_change_change_check CHECK (change IN (
    'registered', 'details', 'check', 'grades', 'framework_status', 'care_inspectorate_number',
    'import', 'grade_withdrawn'));
