-- The chain is extended behind the postings instead of inside them. A posting no longer
-- touches the chain head, whose row lock (held through the commit's WAL flush) put every
-- posting of the ledger in one queue: it stages its link here (the link id its rows name,
-- and the digest of those rows as it wrote them) in its own transaction, and the service's
-- linker moves staged links onto the chain in batches, under the head's lock, deleting
-- them here in the same transaction. A staged link is therefore on the chain or here,
-- never both and never neither, and the audit checks the rows of both kinds against their
-- digests.

CREATE TABLE chain_pending (
    link_id     bigint PRIMARY KEY,
    digest      bytea NOT NULL CHECK (length(digest) = 32),
    staged_at   timestamptz NOT NULL
);
