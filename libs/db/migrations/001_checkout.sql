-- Checkout, payments and entry codes: the first schema. Money is in integer minor units (cents) and
-- every time is store-clock milliseconds since the epoch, both bigint. One statement per line group,
-- each ending with a semicolon at the end of a line (the runner splits on those).

-- An account that pays: a shopper of the app. A blocked account is refused at the gate.
CREATE TABLE accounts (
  account_id text PRIMARY KEY,
  created_ms bigint NOT NULL,
  blocked_reason text
);

-- A visit as checkout sees it: from the entry scan to a settled payment.
--   status: in-store, awaiting-payment (receipt in, charge queued), charged, payment-failed (a
--   decline: retried by policy, the account may not enter meanwhile), nothing-to-charge (empty
--   receipt), not-charged (no paying account: an anonymous visit, for the operator)
--   hold_status: none, requested (queued at entry), authorised, declined, voided, captured
CREATE TABLE visits (
  visit_id text PRIMARY KEY,
  store_id text NOT NULL,
  account_id text REFERENCES accounts (account_id),
  kind text NOT NULL CHECK (kind IN ('shopper', 'staff', 'anonymous')),
  started_ms bigint,
  exit_ms bigint,
  status text NOT NULL CHECK (status IN ('in-store', 'awaiting-payment', 'charged', 'payment-failed', 'nothing-to-charge', 'not-charged')),
  hold_status text NOT NULL DEFAULT 'none' CHECK (hold_status IN ('none', 'requested', 'authorised', 'declined', 'voided', 'captured')),
  hold_authorisation_id text,
  hold_cents bigint NOT NULL DEFAULT 0 CHECK (hold_cents >= 0),
  currency text NOT NULL,
  updated_ms bigint NOT NULL
);
CREATE INDEX visits_unpaid ON visits (account_id) WHERE status = 'payment-failed';

-- Every cart.updated of a visit, as the cart service published it (the shopper's live cart).
CREATE TABLE cart_events (
  visit_id text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  event_id text NOT NULL UNIQUE,
  ts_ms bigint NOT NULL,
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  cart jsonb NOT NULL,
  PRIMARY KEY (visit_id, version)
);

-- The final receipt of a visit, once: what was charged is its lines.
CREATE TABLE receipts (
  receipt_id text PRIMARY KEY,
  visit_id text NOT NULL UNIQUE REFERENCES visits (visit_id),
  store_id text NOT NULL,
  account_id text REFERENCES accounts (account_id),
  exit_ms bigint NOT NULL,
  finalised_ms bigint NOT NULL,
  currency text NOT NULL,
  total_cents bigint NOT NULL CHECK (total_cents >= 0)
);
CREATE INDEX receipts_by_account ON receipts (account_id, exit_ms);

-- Lines of a receipt, numbered from 1. source: exit (on the receipt at exit) or review (added later by
-- a review decision, charged on its own).
CREATE TABLE receipt_lines (
  receipt_id text NOT NULL REFERENCES receipts (receipt_id),
  line_no integer NOT NULL CHECK (line_no >= 1),
  product_id text NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  source text NOT NULL CHECK (source IN ('exit', 'review')),
  review_id text,
  charge_id text NOT NULL,
  PRIMARY KEY (receipt_id, line_no)
);

-- What a person must decide about a receipt: a line pending review at exit, or a line the shopper
-- contests. status: open, attributed (the visit pays it), dismissed, approved / rejected (contests).
CREATE TABLE review_items (
  review_id text NOT NULL,
  visit_id text NOT NULL REFERENCES visits (visit_id),
  receipt_id text REFERENCES receipts (receipt_id),
  kind text NOT NULL CHECK (kind IN ('pending-line', 'contest')),
  line_no integer,
  shelf_event_id text,
  candidates jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL CHECK (status IN ('open', 'attributed', 'dismissed', 'approved', 'rejected')),
  opened_ms bigint NOT NULL,
  resolved_ms bigint,
  decision jsonb,
  PRIMARY KEY (review_id, visit_id)
);

-- A payment to take for a visit: the exit charge (charge_id = the visit id) or a review decision's
-- (visit id/review/review id). charge_id is the capture's idempotency key at the provider.
--   status: pending, captured, voided (nothing to take), declined (payment failed: retried by policy)
CREATE TABLE charges (
  charge_id text PRIMARY KEY,
  visit_id text NOT NULL REFERENCES visits (visit_id),
  receipt_id text NOT NULL REFERENCES receipts (receipt_id),
  account_id text REFERENCES accounts (account_id),
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  status text NOT NULL CHECK (status IN ('pending', 'captured', 'voided', 'declined', 'not-charged')),
  declines integer NOT NULL DEFAULT 0,
  authorisation_id text,
  capture_id text,
  created_ms bigint NOT NULL,
  settled_ms bigint,
  last_error text
);
CREATE INDEX charges_by_visit ON charges (visit_id);

-- A refund of one receipt line, once: refund_id is its idempotency key at the provider.
CREATE TABLE refunds (
  refund_id text PRIMARY KEY,
  receipt_id text NOT NULL,
  line_no integer NOT NULL,
  charge_id text NOT NULL REFERENCES charges (charge_id),
  amount_cents bigint NOT NULL CHECK (amount_cents > 0),
  status text NOT NULL CHECK (status IN ('pending', 'refunded')),
  reason text NOT NULL,
  requested_ms bigint NOT NULL,
  settled_ms bigint,
  UNIQUE (receipt_id, line_no),
  FOREIGN KEY (receipt_id, line_no) REFERENCES receipt_lines (receipt_id, line_no)
);

-- Work written in the same transaction as the state that asks for it, delivered until acknowledged:
-- authorise a hold, take a charge, refund a line, publish a message. A row is leased while a
-- dispatcher works on it; a dead dispatcher's lease runs out and another takes the row.
CREATE TABLE outbox (
  seq bigserial PRIMARY KEY,
  outbox_id text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('authorise', 'charge', 'refund', 'publish')),
  payload jsonb NOT NULL,
  created_ms bigint NOT NULL,
  next_attempt_ms bigint NOT NULL,
  lease_until_ms bigint,
  attempts integer NOT NULL DEFAULT 0,
  delivered_ms bigint,
  last_error text
);
CREATE INDEX outbox_due ON outbox (next_attempt_ms, seq) WHERE delivered_ms IS NULL;

-- Entry codes used once: the gate inserts the nonce of every code it admits; a second use conflicts.
CREATE TABLE used_entry_nonces (
  nonce text PRIMARY KEY,
  account_id text NOT NULL,
  store_id text NOT NULL,
  used_at bigint NOT NULL
);

-- The local payment provider's own books (libs/payments/local.provider.ts): idempotency records,
-- authorisations, and a ledger of every movement. A real processor keeps these on its side.
CREATE TABLE provider_idempotency (
  idempotency_key text PRIMARY KEY,
  operation text NOT NULL,
  request_hash text NOT NULL,
  response jsonb NOT NULL,
  created_ms bigint NOT NULL
);
CREATE INDEX provider_idempotency_age ON provider_idempotency (created_ms);

CREATE TABLE provider_authorisations (
  authorisation_id text PRIMARY KEY,
  account_id text NOT NULL,
  reference text NOT NULL,
  currency text NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents > 0),
  captured_cents bigint NOT NULL DEFAULT 0 CHECK (captured_cents >= 0),
  refunded_cents bigint NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
  status text NOT NULL CHECK (status IN ('authorised', 'captured', 'voided')),
  created_ms bigint NOT NULL,
  CHECK (captured_cents <= amount_cents),
  CHECK (refunded_cents <= captured_cents)
);

CREATE TABLE provider_ledger (
  entry_id bigserial PRIMARY KEY,
  operation text NOT NULL CHECK (operation IN ('authorise', 'capture', 'void', 'refund', 'decline')),
  authorisation_id text,
  reference text NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  idempotency_key text NOT NULL,
  at_ms bigint NOT NULL
);
CREATE INDEX provider_ledger_by_reference ON provider_ledger (reference);
