-- The read audit trail of personal data (QUALITY.md S6): one row for every call of GetPlan
-- or GetPerson that returned a person's plan or record (`read`), or that was refused on a
-- person who exists (`refused`, with the code the caller was answered), under the person's
-- own authority. person_audit still keeps every change to a person's record (and, as
-- before, each read as `plan.read` or `person.read`); this trail has the one shape every
-- service's ListReadAudit answers with, refusals included.
--
-- Every service has this table in its own schema with these same columns:
-- `sds_platform::read_audit` writes and lists it, and ListReadAudit answers from it.
-- Append-only: the service only inserts, and the triggers below refuse the rest.
CREATE TABLE read_audit (
    position      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Whose authority the record belongs to: its staff, and only they, list the row.
    authority     text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    -- The caller: the token's organisation (`sub`) and its kind.
    actor         text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 128),
    actor_kind    text NOT NULL CHECK (actor_kind IN ('authority', 'provider', 'holder', 'person')),
    -- Whose record: a person, or the payee whose bank account it is.
    subject_kind  text NOT NULL CHECK (subject_kind IN ('person', 'provider', 'holder', 'payee')),
    subject_id    uuid NOT NULL,
    -- The RPC (`assessment.GetX`) and the id the caller asked for.
    what          text NOT NULL CHECK (what ~ '^assessment\.[A-Z][A-Za-z]{1,63}$'),
    record_id     text NOT NULL CHECK (record_id ~ '^[!-~]{1,128}$'),
    outcome       text NOT NULL CHECK (outcome IN ('read', 'refused')),
    refusal_code  text CHECK (refusal_code IN ('PERMISSION_DENIED', 'NOT_FOUND')),
    -- The service's clock (its "now"), not the database's.
    at            timestamptz NOT NULL,
    CHECK ((outcome = 'refused') = (refusal_code IS NOT NULL))
);

CREATE INDEX read_audit_by_authority ON read_audit (authority, position);
CREATE INDEX read_audit_by_subject ON read_audit (authority, subject_id, position);

CREATE FUNCTION refuse_read_audit_rewrite() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'read_audit is append-only';
END;
$$;

CREATE TRIGGER read_audit_is_append_only
    BEFORE UPDATE OR DELETE ON read_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_read_audit_rewrite();

CREATE TRIGGER read_audit_is_never_truncated
    BEFORE TRUNCATE ON read_audit
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_read_audit_rewrite();
