-- Payments, twelfth part: a chunk of a run that cannot be worked (a refusal, not an outage)
-- says why, so that the run's coordinator stops at once and tells the caller, instead of
-- the chunk going round the replicas for ever. Asking for the run again clears it and hands
-- the chunk out again.
ALTER TABLE run_chunk
    ADD COLUMN failed text CHECK (length(failed) BETWEEN 1 AND 2000),
    ADD CONSTRAINT run_chunk_done_or_failed CHECK (done_at IS NULL OR failed IS NULL);
