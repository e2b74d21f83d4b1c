-- Package requests (issue 11): a social worker asks the providers of an area for offers on one
-- option 2 line of a person's plan; providers answer once each (an offer or a decline); the
-- person chooses one offer. The CHECK constraints repeat `domain::package_request`.
--
-- `person_id`, `plan_id` and `line_number` say who the request is for: shown to authority
-- staff and the person, and to the provider whose offer was accepted, never to another
-- provider, and never in package.requested or package.offered.
CREATE TABLE package_request (
    id                  uuid PRIMARY KEY,
    authority           text NOT NULL CHECK (authority ~ '^[a-z0-9_-]{1,64}$'),
    person_id           uuid NOT NULL,
    plan_id             uuid NOT NULL,
    line_number         integer NOT NULL CHECK (line_number >= 1),
    needs_summary       text NOT NULL CHECK (char_length(needs_summary) BETWEEN 1 AND 2000),
    service_types       text[] NOT NULL
                        CHECK (cardinality(service_types) BETWEEN 1 AND 10),
    locality            text NOT NULL CHECK (char_length(locality) BETWEEN 1 AND 100),
    hours_per_week      numeric(5, 2) CHECK (hours_per_week > 0 AND hours_per_week <= 168),
    weekly_budget       numeric(14, 2) CHECK (weekly_budget > 0),
    start_date          date NOT NULL,
    closing_date        date NOT NULL,
    status              text NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'accepted', 'closed')),
    accepted_offer_id   uuid,
    version             bigint NOT NULL CHECK (version >= 1),
    published_at        timestamptz NOT NULL,
    published_by        text NOT NULL,
    published_on        date NOT NULL,
    service_types_folded text[] GENERATED ALWAYS AS (fold_case(service_types)) STORED,
    locality_folded     text GENERATED ALWAYS AS (lower(locality)) STORED,
    CHECK ((hours_per_week IS NULL) <> (weekly_budget IS NULL)),
    CHECK (closing_date >= published_on AND closing_date <= start_date),
    CHECK ((status = 'accepted') = (accepted_offer_id IS NOT NULL))
);

-- One open request per plan line: a second would split the providers' answers.
CREATE UNIQUE INDEX package_request_one_open_per_line ON package_request (plan_id, line_number)
    WHERE status = 'open';
CREATE INDEX package_request_by_authority ON package_request (authority, published_at);
-- What a provider is shown: the open requests in its localities with its service types.
CREATE INDEX package_request_open_by_locality ON package_request (locality_folded)
    WHERE status = 'open';

-- A provider's answer to a request: an offer (a weekly price or an hourly rate, the earliest
-- day it can start, a note) or a decline. One per provider per request; answering again
-- before offers close replaces it.
CREATE TABLE package_offer (
    id                  uuid PRIMARY KEY,
    request_id          uuid NOT NULL REFERENCES package_request (id),
    provider_id         uuid NOT NULL REFERENCES provider (id),
    kind                text NOT NULL CHECK (kind IN ('offer', 'decline')),
    weekly_price        numeric(14, 2) CHECK (weekly_price > 0),
    hourly_rate         numeric(14, 2) CHECK (hourly_rate > 0),
    earliest_start      date,
    note                text NOT NULL CHECK (char_length(note) <= 1000),
    offered_at          timestamptz NOT NULL,
    offered_by          text NOT NULL,
    -- The order answers arrived in, a tie-break of the ranking.
    seq                 bigint GENERATED ALWAYS AS IDENTITY,
    UNIQUE (request_id, provider_id),
    CHECK (CASE kind
        WHEN 'offer' THEN (weekly_price IS NULL) <> (hourly_rate IS NULL)
            AND earliest_start IS NOT NULL
        ELSE weekly_price IS NULL AND hourly_rate IS NULL AND earliest_start IS NULL
    END)
);

ALTER TABLE package_request ADD CONSTRAINT package_request_accepted_offer
    FOREIGN KEY (accepted_offer_id) REFERENCES package_offer (id);
