-- A person's own package requests, as ListPackageRequests reads them for the person.
CREATE INDEX package_request_by_person ON package_request (person_id);
