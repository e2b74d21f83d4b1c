-- No provider passes itself off as an inspected care service (see domain/impersonation.rs).

-- A name as a reader compares it: lower case, single spaces, whatever the kind of space
-- (no-break, en, em, ideographic: all look alike on a screen). The service applies the
-- same rule in Rust (impersonation::name_key); this one serves the index below.
CREATE FUNCTION name_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(btrim(regexp_replace(name, '[[:space:]\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+', ' ', 'g')));

-- Registrations and renames look up registered services by name.
CREATE INDEX provider_registered_service_by_name ON provider (name_key(name))
    WHERE care_inspectorate_number IS NOT NULL;

-- Only a record with a service number is a registered care service. NOT VALID: rows
-- written before the rule are left for commissioning staff to put right (attach the
-- number, or the provider changes its kind); every new write is checked.
ALTER TABLE provider ADD CONSTRAINT provider_registered_service_has_number
    CHECK (kind <> 'registered_care_service' OR care_inspectorate_number IS NOT NULL) NOT VALID;
