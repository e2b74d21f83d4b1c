-- History made tamper-evident: every posting transaction appends one link to a hash chain,
-- and the transfers, pending resolutions and entries it wrote name that link. A link's
-- hash is sha256(the previous link's hash || the canonical content of its rows), computed
-- by the service (`posting::chain`) and recomputed by `sds ledger audit`, so a row changed,
-- added or removed behind the service breaks the chain at its link.
--
-- The chain head is one row updated in the posting transaction: its row lock is held to
-- commit, so links are numbered in commit order and two transactions never fork the chain.
-- Every posting takes it last, after its accounts, so it adds no lock cycle.

CREATE TABLE chain_link (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    linked_at   timestamptz NOT NULL
);

CREATE TABLE chain_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq     bigint NOT NULL CHECK (seq >= 0),
    hash    bytea NOT NULL CHECK (length(hash) = 32)
);

-- Before the first link: sequence 0 and a hash of 32 zero bytes.
INSERT INTO chain_head (one, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE TRIGGER chain_link_is_history BEFORE UPDATE OR DELETE ON chain_link
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER chain_link_is_kept BEFORE TRUNCATE ON chain_link
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Rows recorded before this migration have no link; the audit reports them as unchained.
ALTER TABLE transfer ADD COLUMN chain_seq bigint REFERENCES chain_link (seq);
ALTER TABLE pending_resolution ADD COLUMN chain_seq bigint REFERENCES chain_link (seq);
ALTER TABLE entry ADD COLUMN chain_seq bigint REFERENCES chain_link (seq);

-- The audit reads history one range of links at a time.
CREATE INDEX transfer_by_chain_seq ON transfer (chain_seq);
CREATE INDEX resolution_by_chain_seq ON pending_resolution (chain_seq);
CREATE INDEX entry_by_chain_seq ON entry (chain_seq);
