-- Retried registrations and records kept on a provider's behalf.
--
-- A RegisterProvider call may carry a request id (an idempotency key): the first call with
-- a key registers, a retry with the same key and the same details returns that provider,
-- and the same key with other details is refused. Keys are scoped to the calling
-- organisation, so two organisations cannot collide or probe each other's keys.
CREATE TABLE registration_request (
    -- `<org kind>:<org id>` of the caller.
    registrant   text NOT NULL CHECK (char_length(registrant) BETWEEN 3 AND 300),
    request_id   text NOT NULL CHECK (request_id ~ '^[!-~]{1,100}$'),
    -- The validated details as registered (protobuf), to tell a retry from a new request.
    details      bytea NOT NULL,
    -- Deferred, so the key can be claimed before the provider row exists in the same
    -- transaction: claiming first is what makes a concurrent retry wait for the outcome.
    provider_id  uuid NOT NULL REFERENCES provider (id) DEFERRABLE INITIALLY DEFERRED,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registrant, request_id)
);

-- The authorities whose commissioning staff registered a provider on its behalf (a
-- personal assistant a person chose off framework, say) and so may keep its details up to
-- date. Empty for a provider that registered itself or came from the import.
ALTER TABLE provider
    ADD COLUMN stewards text[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(stewards) <= 50
               AND array_to_string(stewards, ',') ~ '^([a-z0-9_-]{1,64}(,[a-z0-9_-]{1,64})*)?$');
