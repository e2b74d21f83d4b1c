-- The portal's own copy of what it needs from other services' events; no service reads
-- another's tables.

-- Lower-cased items, so that matching ignores case exactly as the directory's does (it
-- folds with lower() too). SQL-standard bodies are bound when created.
CREATE FUNCTION fold_case(items text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ARRAY(SELECT lower(item) FROM unnest(items) AS item);

-- The directory's providers, as far as matching package requests needs them. Filled only
-- by the `portal-providers` consumer from provider.registered and provider.updated; an
-- event older than the version here changes nothing.
CREATE TABLE known_provider (
    provider_id           uuid PRIMARY KEY,
    service_types         text[] NOT NULL,
    localities            text[] NOT NULL,
    -- Inactive Care Inspectorate services are sent no requests, as in the directory.
    active                boolean NOT NULL,
    version               bigint NOT NULL CHECK (version >= 1),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    service_types_folded  text[] GENERATED ALWAYS AS (fold_case(service_types)) STORED,
    localities_folded     text[] GENERATED ALWAYS AS (fold_case(localities)) STORED
);

CREATE INDEX known_provider_by_service_type ON known_provider USING gin (service_types_folded);
CREATE INDEX known_provider_by_locality ON known_provider USING gin (localities_folded);

-- Who is party to an agreement, from agreement.signed and agreement.varied, so that
-- agreement.ended (which names only the payee) reaches the provider and the holder.
CREATE TABLE agreement_party (
    agreement_id  uuid PRIMARY KEY,
    provider_id   uuid NOT NULL,
    -- Only for a fund a third party holds.
    holder_id     uuid,
    version       bigint NOT NULL CHECK (version >= 1)
);
