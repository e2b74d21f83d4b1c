-- Package requests withdrawn by the authority (issue 11): the request is closed to offers
-- and the providers it was shown to are told. Who withdrew it and when is kept; a closed
-- request is never reopened (the person's line is asked for again by a new request, which
-- the one-open-request-per-line index now allows).
ALTER TABLE package_request
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN closed_by text CHECK (char_length(closed_by) BETWEEN 1 AND 200),
    ADD CONSTRAINT package_request_withdrawal_recorded CHECK (
        (status = 'closed') = (closed_at IS NOT NULL AND closed_by IS NOT NULL));
