-- Payments, eleventh part: a payment run shared among the service's replicas. The run's
-- coordinator cuts the authority's schedules into chunks of adjacent agreement ids, which
-- together cover every id (the first from the smallest id, the last to the largest), and
-- hands them out through a JetStream work queue; a chunk is done once its schedules are
-- planned, their funds opened and their instalments posted.
CREATE TABLE run_chunk (
    run_id          uuid NOT NULL REFERENCES payment_run (run_id),
    chunk           integer NOT NULL CHECK (chunk >= 0),
    first_agreement uuid NOT NULL,
    last_agreement  uuid NOT NULL CHECK (last_agreement >= first_agreement),
    -- the schedules in the range when the run was cut, for progress only
    schedules       integer NOT NULL CHECK (schedules >= 0),
    done_at         timestamptz,
    -- the replica that finished it (host name and process id), for operators
    done_by         text CHECK (length(done_by) BETWEEN 1 AND 256),
    CHECK ((done_at IS NULL) = (done_by IS NULL)),
    PRIMARY KEY (run_id, chunk)
);

-- The name this deployment's work queue goes by on NATS: every replica of the service reads
-- it from the database they share, so replicas of one deployment share one queue, and
-- deployments (test databases, say) that share a NATS server never take each other's work.
CREATE TABLE work_queue_key (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    key             uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO work_queue_key DEFAULT VALUES;
