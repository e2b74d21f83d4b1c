-- The chain head is taken at the very end of a posting transaction, so its row lock (held
-- to commit, which numbers links in commit order) is held for one statement and the
-- commit, not for the whole posting: postings of different funds no longer wait for each
-- other on it. The rows a transaction writes before then cannot know their link's place in
-- the chain yet, so they name it by an id drawn from a sequence at the start, and the link
-- records both its place (`seq`, in commit order) and that id.

ALTER TABLE chain_link ADD COLUMN link_id bigint;
-- Links recorded so far are named by their place.
ALTER TABLE chain_link DISABLE TRIGGER chain_link_is_history;
UPDATE chain_link SET link_id = seq;
ALTER TABLE chain_link ENABLE TRIGGER chain_link_is_history;
ALTER TABLE chain_link ALTER COLUMN link_id SET NOT NULL;
ALTER TABLE chain_link ADD CONSTRAINT chain_link_id_once UNIQUE (link_id);

CREATE SEQUENCE chain_link_id;
SELECT setval('chain_link_id', coalesce(max(seq), 0) + 1, false) FROM chain_link;

-- No foreign key from the rows to their link: it would look up the link for every row of
-- every posting (three lookups a transfer, thirty thousand a bulk chunk) to check what the
-- audit checks anyway, which names rows whose link is not recorded.
ALTER TABLE transfer DROP CONSTRAINT transfer_chain_seq_fkey;
ALTER TABLE transfer RENAME COLUMN chain_seq TO chain_link_id;
ALTER TABLE pending_resolution DROP CONSTRAINT pending_resolution_chain_seq_fkey;
ALTER TABLE pending_resolution RENAME COLUMN chain_seq TO chain_link_id;
ALTER TABLE entry DROP CONSTRAINT entry_chain_seq_fkey;
ALTER TABLE entry RENAME COLUMN chain_seq TO chain_link_id;
