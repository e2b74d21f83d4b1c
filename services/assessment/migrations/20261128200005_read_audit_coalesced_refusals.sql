-- Coalesced refusals in the read audit trail: a refused caller that loops (one probe wrote
-- 3,004 refused entries in 10 s) keeps only its first refusal of each minute. A `refused`
-- entry now carries the minute of the service's clock it fell in (`refused_minute`, `at`
-- cut to the minute in UTC, set by `sds_platform::read_audit`); at most one entry per actor,
-- RPC, record and minute is kept, the later ones left out (INSERT ... ON CONFLICT DO
-- NOTHING). `read` entries, and the refusals written before this migration, carry no minute
-- (NULL, never equal to another) and are never coalesced. The minute is stored rather than
-- indexed as date_trunc('minute', at), which is not immutable for a timestamptz.
ALTER TABLE read_audit ADD COLUMN refused_minute timestamptz;

ALTER TABLE read_audit ADD CONSTRAINT read_audit_refused_minute_is_at_cut_to_the_minute CHECK (
    refused_minute IS NULL
    OR (outcome = 'refused'
        AND refused_minute <= at AND at < refused_minute + interval '1 minute'
        AND extract(epoch FROM refused_minute) = floor(extract(epoch FROM refused_minute) / 60) * 60)
);

CREATE UNIQUE INDEX read_audit_one_refusal_a_minute
    ON read_audit (actor, what, record_id, refused_minute)
    WHERE refused_minute IS NOT NULL;
