-- Contracts, second part: the copies of approved plans that agreements are drafted from,
-- and the agreements themselves with their versions and signatures.
--
-- Runs inside the service's own schema. Contracts never reads assessment's tables: what it
-- knows of a plan is what assessment's plan events published, kept here as they arrived.

-- Each approved plan version as its event carried it. A version is stored once and never
-- changed: a replayed or repeated event for a version already here changes nothing.
CREATE TABLE plan_copy (
    person_id       uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    authority       text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    effective_from  date NOT NULL,
    recorded_on     date NOT NULL,
    ends_plan       boolean NOT NULL,
    -- The event that brought this version (plan.approved, plan.varied, ...).
    event_type      text NOT NULL,
    -- Every line as the event carried it (ended lines included), as a JSON array: the
    -- lines are read only as a whole, to draft from, so a table of their own buys nothing.
    lines           jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, version)
);

CREATE FUNCTION refuse_plan_copy_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plan copies are never changed or removed; a later version is a new row';
END;
$$;

CREATE TRIGGER plan_copy_immutable
    BEFORE UPDATE OR DELETE ON plan_copy
    FOR EACH ROW EXECUTE FUNCTION refuse_plan_copy_change();
