-- 0005_auth_hardening: login throttling that parallel requests cannot race,
-- and notifications when an agent's rights or a site's identity rule change.

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

-- parley_login_reserve: takes the account's and then the IP's advisory lock
-- (always in this order, so two reservations cannot deadlock; the two-key
-- lock space does not overlap the one-key one the migrator uses), counts the
-- attempts inside the window and either refuses (attempt NULL, retry_after =
-- seconds until enough attempts have left the window, at least 1) or records
-- the attempt (retry_after 0). PL/pgSQL takes a new snapshot for each
-- statement, so the counts made after the locks see every reservation
-- committed before them; the locks are held until this call's transaction
-- ends, after its own row is visible.
CREATE FUNCTION parley_login_reserve(p_email text, p_ip inet, p_window integer, p_account_limit integer,
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

-- An agent's rights are their role and their teams. Any change of either
-- NOTIFYs {"e":"agent_rights","ag":id} inside the changing transaction,
-- whichever statement made it (agent or team PATCH, agent add, manual SQL),
-- and every node closes that agent's sockets (close 4004): the console
-- re-authenticates and rebuilds its views with the new rights. Identical
-- payloads of one transaction are delivered once. Deactivation has its own
-- notification (agent_off, from the API) and ends the sessions too.
CREATE FUNCTION parley_agent_role_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley', json_build_object('e', 'agent_rights', 'ag', NEW.id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER agents_role_changed AFTER UPDATE OF role ON agents
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION parley_agent_role_changed();

CREATE FUNCTION parley_team_members_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('parley', json_build_object('e', 'agent_rights', 'ag', OLD.agent_id)::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('parley', json_build_object('e', 'agent_rights', 'ag', NEW.agent_id)::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER team_members_changed AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH ROW EXECUTE FUNCTION parley_team_members_changed();

-- A site that starts requiring a verified identity NOTIFYs
-- {"e":"site_identity","s":id}: every node closes that site's open sockets
-- of visitors without one (close 4003 identity_required).
CREATE FUNCTION parley_site_identity_required() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley', json_build_object('e', 'site_identity', 's', NEW.id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER sites_identity_required AFTER UPDATE OF identity_required ON sites
    FOR EACH ROW WHEN (NEW.identity_required AND NOT OLD.identity_required)
    EXECUTE FUNCTION parley_site_identity_required();
