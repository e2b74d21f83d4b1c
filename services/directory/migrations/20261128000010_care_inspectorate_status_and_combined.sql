-- What the Care Inspectorate datastore says about a service beyond its details.
--
-- care_service_status: whether the service operates (the datastore's ServiceStatus).
-- Only the import sets it to inactive, and only for a provider with a service number:
-- every other provider is active, which is also what every existing row is.
ALTER TABLE provider
    ADD COLUMN care_service_status text NOT NULL DEFAULT 'active'
        CONSTRAINT provider_care_service_status_check
        CHECK (care_service_status IN ('active', 'inactive')),
    ADD CONSTRAINT provider_inactive_only_with_a_service_number
        CHECK (care_service_status = 'active' OR care_inspectorate_number IS NOT NULL);
