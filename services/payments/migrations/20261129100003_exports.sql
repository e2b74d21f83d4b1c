-- Payments, third part: the authority's ledger codes its finance system posts a run's
-- journal to, and the files each run wrote.

-- Letters, digits and . _ / - only, as finance systems take them: the journal needs no
-- quoting and no code can smuggle a formula into a spreadsheet.
ALTER TABLE authority_settings
    ADD COLUMN journal_expense_code text CHECK (journal_expense_code ~ '^[A-Za-z0-9._/-]{1,20}$'),
    ADD COLUMN journal_bank_code text CHECK (journal_bank_code ~ '^[A-Za-z0-9._/-]{1,20}$'),
    ADD COLUMN journal_cost_centre text CHECK (journal_cost_centre ~ '^[A-Za-z0-9._/-]{1,20}$');

-- The finance files a completed run wrote, as paths the server wrote them to.
ALTER TABLE payment_run ADD COLUMN files text[] NOT NULL DEFAULT '{}';
