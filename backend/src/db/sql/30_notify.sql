-- Notifications that the database itself raises when a row changes,
-- whatever statement changed it (channel parley; the catalogue is in
-- backend/src/chat/notify.h).

-- An agent's rights are their role and their teams. Any change of either
-- NOTIFYs {"e":"agent_rights","ag":id} inside the changing transaction,
-- whichever statement made it (agent or team PATCH, agent add, manual SQL),
-- and every node closes that agent's sockets (close 4004): the console
-- re-authenticates and rebuilds its views with the new rights. Identical
-- payloads of one transaction are delivered once. Deactivation has its own
-- notification (agent_off, from the API) and ends the sessions too.
CREATE OR REPLACE FUNCTION parley_agent_role_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley', json_build_object('e', 'agent_rights', 'ag', NEW.id)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER agents_role_changed AFTER UPDATE OF role ON agents
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION parley_agent_role_changed();

CREATE OR REPLACE FUNCTION parley_team_members_changed() RETURNS trigger
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

CREATE OR REPLACE TRIGGER team_members_changed AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH ROW EXECUTE FUNCTION parley_team_members_changed();

-- A site that starts requiring a verified identity NOTIFYs
-- {"e":"site_identity","s":id}: every node closes that site's open sockets
-- of visitors without one (close 4003 identity_required).
CREATE OR REPLACE FUNCTION parley_site_identity_required() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley', json_build_object('e', 'site_identity', 's', NEW.id)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sites_identity_required AFTER UPDATE OF identity_required ON sites
    FOR EACH ROW WHEN (NEW.identity_required AND NOT OLD.identity_required)
    EXECUTE FUNCTION parley_site_identity_required();
