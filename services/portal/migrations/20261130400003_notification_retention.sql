-- Notifications are kept for a retention period, then pruned from the oldest. What was
-- pruned is remembered per subscriber, so that a resume cursor from before it is refused
-- rather than silently skipping what it never received. Pruning removes a prefix of each
-- subscriber's notifications: every one numbered up to `pruned_through`, none after it.
ALTER TABLE subscriber
    ADD COLUMN pruned_through bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT subscriber_pruned_prefix CHECK (pruned_through BETWEEN 0 AND last_seq);

-- Pruning finds what is old without reading every subscriber's notifications.
CREATE INDEX notification_recorded_at ON notification (recorded_at);
