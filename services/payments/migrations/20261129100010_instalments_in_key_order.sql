-- Payments, tenth part: a run's instalments in key order. Posting and the run's files read
-- them a page at a time after the last key read; with only `run_id` indexed, each page had to
-- find and sort every instalment of the run still to read, so both grew with the square of
-- the run's size. One index in key order within the run hands each page over at the cost of
-- the page. It leaves `posted` out, so marking an instalment posted no longer changes an
-- index (a heap-only update).
CREATE INDEX instalment_payment_in_run ON instalment_payment (run_id, agreement_id, period_start);
DROP INDEX instalment_payment_by_run;
DROP INDEX instalment_payment_of_run;
