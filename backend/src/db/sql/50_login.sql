-- Login throttling that parallel requests cannot race.

-- parley_login_reserve: takes the account's and then the IP's advisory lock
-- (always in this order, so two reservations cannot deadlock; the two-key
-- lock space does not overlap the one-key one the migrator uses), counts the
-- attempts inside the window and either refuses (attempt NULL, retry_after =
-- seconds until enough attempts have left the window, at least 1) or records
-- the attempt (retry_after 0). PL/pgSQL takes a new snapshot for each
-- statement, so the counts made after the locks see every reservation
-- committed before them; the locks are held until this call's transaction
-- ends, after its own row is visible.
CREATE OR REPLACE FUNCTION parley_login_reserve(p_email text, p_ip inet, p_window integer, p_account_limit integer,
                                     p_ip_limit integer, OUT attempt bigint, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_since timestamptz;
    v_account integer;
    v_ip integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7350, hashtext(lower(p_email)));
    IF p_ip IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(7351, hashtext(host(p_ip)));
    END IF;
    v_since := clock_timestamp() - make_interval(secs => p_window);
    -- Attempts older than the window count for nothing: drop them as we go.
    DELETE FROM login_attempts a
     WHERE (lower(a.email) = lower(p_email) OR a.ip = p_ip) AND a.attempted_at <= v_since;
    -- The limit-th most recent attempt in the window: once it leaves the
    -- window the count is below the limit again.
    SELECT ceil(extract(epoch FROM a.attempted_at - v_since))::integer INTO v_account
      FROM login_attempts a
     WHERE lower(a.email) = lower(p_email) AND a.attempted_at > v_since
     ORDER BY a.attempted_at DESC, a.id DESC OFFSET p_account_limit - 1 LIMIT 1;
    IF p_ip IS NOT NULL THEN
        SELECT ceil(extract(epoch FROM a.attempted_at - v_since))::integer INTO v_ip
          FROM login_attempts a
         WHERE a.ip = p_ip AND a.attempted_at > v_since
         ORDER BY a.attempted_at DESC, a.id DESC OFFSET p_ip_limit - 1 LIMIT 1;
    END IF;
    IF v_account IS NOT NULL OR v_ip IS NOT NULL THEN
        attempt := NULL;
        retry_after := greatest(coalesce(v_account, 1), coalesce(v_ip, 1), 1);
        RETURN;
    END IF;
    INSERT INTO login_attempts (email, ip, attempted_at) VALUES (p_email, p_ip, clock_timestamp())
    RETURNING id INTO attempt;
    retry_after := 0;
END $$;
