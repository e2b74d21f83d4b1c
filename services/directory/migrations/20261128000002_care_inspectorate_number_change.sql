-- Commissioning staff attach, correct or clear a provider's Care Inspectorate number
-- (SetCareInspectorateNumber): a new kind of change in a provider's history.
ALTER TABLE provider_change DROP CONSTRAINT provider_change_change_check;
ALTER TABLE provider_change ADD CONSTRAINT provider_change_change_check CHECK (change IN (
    'registered', 'details', 'check', 'grades', 'framework_status', 'care_inspectorate_number',
    'import'));
