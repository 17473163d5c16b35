-- Holds that end before they are captured, rate limits shared by every app process, and a
-- dispatcher that knows its own leases again after a restart.

-- A card processor keeps a hold for days (7 for card-present), then lets it go; a capture can also be
-- declined, which ends the authorisation. Neither moves money, and the authorisation can no longer be
-- captured: checkout authorises anew.
ALTER TABLE provider_authorisations DROP CONSTRAINT provider_authorisations_status_check;
ALTER TABLE provider_authorisations ADD CONSTRAINT provider_authorisations_status_check CHECK (status IN ('authorised', 'captured', 'voided', 'expired', 'declined'));
ALTER TABLE visits DROP CONSTRAINT visits_hold_status_check;
ALTER TABLE visits ADD CONSTRAINT visits_hold_status_check CHECK (hold_status IN ('none', 'requested', 'authorised', 'declined', 'voided', 'captured', 'expired'));
-- Authorisations of a charge that ended without a decline of the card (expired): with declines, they
-- number the next authorisation's key (<charge>/auth-<declines + renewals + 1>).
ALTER TABLE charges ADD COLUMN renewals integer NOT NULL DEFAULT 0;

-- The dispatcher that holds a row's lease (its worker id). A dispatcher that starts again under the
-- same id knows its previous life is dead and takes its rows back at once instead of waiting out the lease.
ALTER TABLE outbox ADD COLUMN lease_owner text;

-- Rate limits counted in the database, so that every app process behind a load balancer counts the
-- same requests: a generic cell rate algorithm per key, `tat_ms` the theoretical arrival time of the
-- next request (store-clock ms). A key whose tat_ms has passed is a full bucket.
CREATE TABLE rate_limits (
  limit_key text PRIMARY KEY,
  tat_ms bigint NOT NULL
);
