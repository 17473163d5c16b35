-- A review item the gate withdrew (a decision on another item answered it: nobody decided this
-- one) is closed as such, not as a dismissal, so the record says whose word closed it.
ALTER TABLE review_items DROP CONSTRAINT review_items_status_check;
ALTER TABLE review_items ADD CONSTRAINT review_items_status_check CHECK (status IN ('open', 'attributed', 'dismissed', 'withdrawn', 'approved', 'rejected'));
