-- 0005_auth_hardening: login throttling that parallel requests cannot race
-- (the reservation function and the notifications when an agent's rights or
-- a site's identity rule change are in backend/src/db/sql/).

-- Every login (and password change) reserves its attempt here before the
-- password is verified; a successful one deletes the account's reservations
-- up to its own. A row therefore counts as a failure until proven otherwise,
-- and N parallel guesses meet the limits exactly like N sequential ones.
ALTER TABLE login_failures RENAME TO login_attempts;
ALTER TABLE login_attempts RENAME COLUMN failed_at TO attempted_at;
ALTER INDEX login_failures_pkey RENAME TO login_attempts_pkey;
ALTER INDEX login_failures_email_idx RENAME TO login_attempts_email_idx;
ALTER INDEX login_failures_ip_idx RENAME TO login_attempts_ip_idx;
ALTER SEQUENCE login_failures_id_seq RENAME TO login_attempts_id_seq;
