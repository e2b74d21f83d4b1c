-- The person's contribution towards their budget, in the fund's own books: a `contribution`
-- account (the person's side, from which each period's contribution falls due) and a
-- `contribution_due` account (what the person owes: credited as periods fall due, debited
-- as they pay into the fund's balance), so the statement can say what was paid and what is
-- outstanding as at any day. Funds opened before this get both accounts now.
ALTER TABLE account DROP CONSTRAINT account_kind_check;
ALTER TABLE account ADD CONSTRAINT account_kind_check CHECK (kind IN ('fund_balance',
    'authority_funding', 'payable', 'management_fee', 'top_up', 'one_off_purchase', 'recovery',
    'contribution', 'contribution_due'));

ALTER TABLE transfer DROP CONSTRAINT transfer_category_check;
ALTER TABLE transfer ADD CONSTRAINT transfer_category_check CHECK (category IN ('funding',
    'support_payment', 'management_fee', 'top_up', 'one_off_purchase', 'recovery',
    'adjustment', 'closure', 'contribution', 'contribution_due'));

INSERT INTO account (id, fund_id, kind)
SELECT gen_random_uuid(), fund.id, kinds.kind
FROM fund CROSS JOIN (VALUES ('contribution'), ('contribution_due')) AS kinds (kind)
ON CONFLICT DO NOTHING;
