-- The shopper app, the gate's database adapters and checkout's second pass.

-- An account signs in to the app with a bearer token; only the token's SHA-256 is kept, so the table
-- leaked is no token leaked. A blocked account (blocked_reason set, 001) gets no entry codes and is
-- refused at the gate.
ALTER TABLE accounts ADD COLUMN token_hash text UNIQUE;

-- The SQL nonce store (libs/entry/nonce.store.ts) names the reading that holds a nonce, so that the
-- same reading delivered again is recognised. Rows from before this column have no reading.
ALTER TABLE used_entry_nonces ADD COLUMN claimed_by text NOT NULL DEFAULT '';
ALTER TABLE used_entry_nonces ALTER COLUMN claimed_by DROP DEFAULT;
CREATE INDEX used_entry_nonces_age ON used_entry_nonces (used_at);

-- A line may be refunded in parts: a review that finds the shopper put units back refunds those
-- units (refund/<receipt>/<line>/review/<review>), and an approved contest refunds what is left of
-- the line (refund/<receipt>/<line>). Each refund is still once: refund_id is its key.
ALTER TABLE refunds DROP CONSTRAINT refunds_receipt_id_line_no_key;
CREATE INDEX refunds_by_line ON refunds (receipt_id, line_no);

-- Every review decision checkout received, kept whether or not its receipt is recorded yet: a
-- decision that comes before the receipt is applied when the receipt lands.
CREATE TABLE review_decisions (
  review_id text PRIMARY KEY,
  decision jsonb NOT NULL,
  received_ms bigint NOT NULL
);

-- A contest is one per receipt line: its review item is contest/<receipt>/<line>.
CREATE UNIQUE INDEX review_items_one_contest ON review_items (receipt_id, line_no) WHERE kind = 'contest';

-- What the shopper said when contesting a line.
ALTER TABLE review_items ADD COLUMN note text;
