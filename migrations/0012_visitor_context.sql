-- Issue 14: where visitors are, what they use, the pages they see, who is
-- on the sites right now, and invitations to chat.

-- Location (looked up from the address before it is truncated) and device.
ALTER TABLE visitors
    ADD COLUMN region      text CHECK (char_length(region) <= 100),
    ADD COLUMN time_zone   text CHECK (char_length(time_zone) <= 64),
    -- {browser, browser_version, os, os_version, device, screen, language}
    ADD COLUMN device      jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN visits      integer NOT NULL DEFAULT 0 CHECK (visits >= 0);
ALTER TABLE visitors ADD CONSTRAINT visitors_country_check CHECK (country ~ '^[A-Z]{2}$');
ALTER TABLE visitors ADD CONSTRAINT visitors_city_check CHECK (char_length(city) <= 100);
CREATE INDEX visitors_country_idx ON visitors (site_id, country) WHERE country IS NOT NULL;

-- A visit: the pages a visitor sees without a gap of more than
-- parley_visit_gap() between two of them.
CREATE TABLE visits (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visitor_id    bigint NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    started_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    landing_url   text CHECK (char_length(landing_url) <= 2048),
    referrer      text CHECK (char_length(referrer) <= 2048),
    utm           jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip            inet,
    country       text CHECK (country ~ '^[A-Z]{2}$'),
    region        text CHECK (char_length(region) <= 100),
    city          text CHECK (char_length(city) <= 100),
    time_zone     text CHECK (char_length(time_zone) <= 64),
    pages         integer NOT NULL DEFAULT 0 CHECK (pages >= 0)
);
CREATE INDEX visits_visitor_idx ON visits (visitor_id, started_at DESC);
CREATE INDEX visits_started_idx ON visits (started_at);

-- Page views, partitioned by week so that expiring old ones is dropping a
-- partition (parley_page_views_maintain creates them ahead and drops them
-- after PARLEY_JOURNEY_RETENTION_DAYS).
CREATE TABLE page_views (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    visit_id    bigint NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    visitor_id  bigint NOT NULL,
    url         text NOT NULL CHECK (char_length(url) <= 2048),
    title       text CHECK (char_length(title) <= 300),
    viewed_at   timestamptz NOT NULL,
    seconds     integer CHECK (seconds >= 0),
    PRIMARY KEY (id, viewed_at)
) PARTITION BY RANGE (viewed_at);
CREATE INDEX page_views_visit_idx ON page_views (visit_id, viewed_at);

-- Who is on a site right now. UNLOGGED: a heartbeat rewrites a row every
-- 15 s per visitor and none of it needs to survive a crash (after one the
-- table is empty and the next beats fill it again; visits and page views,
-- which are logged, keep the history).
CREATE UNLOGGED TABLE visitors_online (
    visitor_id        bigint PRIMARY KEY REFERENCES visitors (id) ON DELETE CASCADE,
    site_id           bigint NOT NULL,
    visit_id          bigint NOT NULL,
    visit_started_at  timestamptz NOT NULL,
    page_view_id      bigint,
    page_url          text,
    page_title        text,
    page_since        timestamptz NOT NULL,
    referrer          text,
    pages             integer NOT NULL DEFAULT 0,
    widget_closed     boolean NOT NULL DEFAULT false,
    last_beat_at      timestamptz NOT NULL,
    -- The page said it was left (pagehide); the row goes a few seconds
    -- later unless the next page of the same visit arrives first.
    leaving_at        timestamptz
) WITH (fillfactor = 70);
-- No index names last_beat_at: a plain beat then changes no indexed column
-- and, with room left on the page (fillfactor), is a HOT update (no index
-- writes). The offline sweep reads the whole table once a second per node:
-- a few milliseconds at 10,000 visitors (docs/performance.md).
CREATE INDEX visitors_online_site_idx ON visitors_online (site_id, visit_started_at DESC);

-- Automatic invitations per site.
CREATE TABLE invitation_rules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    enabled     boolean NOT NULL DEFAULT true,
    position    integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    message     text NOT NULL CHECK (char_length(message) BETWEEN 1 AND 1000),
    sender_name text NOT NULL DEFAULT '' CHECK (char_length(sender_name) <= 100),
    -- {time_on_page_seconds, url_contains, min_visits, countries, referrer_contains}
    conditions  jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitation_rules_site_idx ON invitation_rules (site_id, position, id) WHERE enabled;

-- Invitations sent, by an agent or a rule, and what became of them:
-- pending (not yet seen), shown (the widget showed it), accepted (the
-- visitor answered: conversation_id), ignored (dismissed, or the visitor
-- left without answering).
CREATE TABLE invitations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    visitor_id      bigint NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    rule_id         bigint REFERENCES invitation_rules (id) ON DELETE SET NULL,
    agent_id        bigint REFERENCES agents (id) ON DELETE SET NULL,
    automatic       boolean NOT NULL,
    message         text NOT NULL CHECK (char_length(message) BETWEEN 1 AND 1000),
    sender_name     text NOT NULL CHECK (char_length(sender_name) BETWEEN 1 AND 200),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'shown', 'accepted', 'ignored')),
    conversation_id bigint REFERENCES conversations (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    shown_at        timestamptz,
    ended_at        timestamptz
);
-- One open invitation per visitor: two nodes (or an agent and a rule)
-- racing for the same visitor leave one.
CREATE UNIQUE INDEX invitations_open_key ON invitations (visitor_id) WHERE status IN ('pending', 'shown');
CREATE INDEX invitations_rule_idx ON invitations (rule_id, visitor_id, created_at DESC) WHERE rule_id IS NOT NULL;
CREATE INDEX invitations_pending_idx ON invitations (visitor_id) WHERE status = 'pending';
