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

-- combined_service_number: the service this one is registered in combination with (the
-- datastore's CaseNumber_Combined). No foreign key: the partner may come in a later batch,
-- or not be in the directory at all. Only a Care Inspectorate service has a partner, and
-- never itself.
ALTER TABLE provider
    ADD COLUMN combined_service_number text
        CONSTRAINT provider_combined_service_number_check
        CHECK (combined_service_number ~ '^CS[0-9]{10}$'),
    ADD CONSTRAINT provider_combined_with_another_service
        CHECK (combined_service_number IS NULL
               OR (care_inspectorate_number IS NOT NULL
                   AND combined_service_number <> care_inspectorate_number));
