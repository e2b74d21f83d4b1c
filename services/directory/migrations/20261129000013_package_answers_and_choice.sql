-- Package requests, answered and chosen (issue 11).
--
-- A provider's answer is one row per provider per request, changed in place when the provider
-- answers again, with a version, so that the person accepts the offer they were shown: an
-- acceptance names the version it saw, and a later change makes it stale rather than binding
-- either side to terms the other did not see.
--
-- An accepted request records which offer, who will hold the fund (as the person chose), and
-- who recorded the choice and when.
ALTER TABLE package_offer
    ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN first_offered_at timestamptz;
UPDATE package_offer SET first_offered_at = offered_at;
ALTER TABLE package_offer ALTER COLUMN first_offered_at SET NOT NULL;

ALTER TABLE package_request
    ADD COLUMN holding_model text CHECK (holding_model IN ('third_party', 'provider', 'authority')),
    ADD COLUMN holder text CHECK (char_length(holder) BETWEEN 1 AND 200),
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN accepted_by text,
    ADD CONSTRAINT package_request_choice_recorded CHECK (
        (status = 'accepted') = (holding_model IS NOT NULL AND accepted_at IS NOT NULL
                                 AND accepted_by IS NOT NULL)),
    ADD CONSTRAINT package_request_holder_of_third_party CHECK (
        (holder IS NOT NULL) = (holding_model IS NOT DISTINCT FROM 'third_party'));

-- What a provider has answered, for its own list of requests.
CREATE INDEX package_offer_by_provider ON package_offer (provider_id, request_id);
