-- Reviews: `review.due` is published once per approved version whose review date has
-- arrived, and a review is suggested when payments reports persistent variance.
ALTER TABLE plan_version ADD COLUMN review_announced_at timestamptz
    CHECK (review_announced_at IS NULL OR status = 'approved');

CREATE INDEX plan_version_reviews_to_announce ON plan_version (review_due)
    WHERE status = 'approved' AND review_announced_at IS NULL;

-- Suggestions that a person's plan be reviewed early, with the reason.
CREATE TABLE review_suggestion (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     uuid NOT NULL REFERENCES person (id),
    reason        text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 2000),
    -- The event that raised it, so one event suggests one review.
    event_id      uuid NOT NULL UNIQUE,
    suggested_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX review_suggestion_by_person ON review_suggestion (person_id, id);
