-- One open fund per person per holder *within an authority*. A person who moves to another
-- authority keeps the first authority's fund until it is closed while the new authority
-- opens its own, and neither authority learns of the other's fund through a refusal.
DROP INDEX fund_open_per_person_and_holder;
CREATE UNIQUE INDEX fund_open_per_authority_person_and_holder
    ON fund (authority, person_id, holder_id) WHERE closed_on IS NULL;
