-- One open request per line of a person's plan. The plan is the person's in assessment (one
-- per person); `plan_id` is only the caller's reference for it, so keying the rule on it let
-- a second open request for the same line through under a new reference.
DROP INDEX package_request_one_open_per_line;
CREATE UNIQUE INDEX package_request_one_open_per_line ON package_request (person_id, line_number)
    WHERE status = 'open';
