-- 0010_sla: business hours, SLA clocks and escalation rules per team (the
-- JSON is validated by parleyd: chat/calendar and chat/sla; functions in
-- backend/src/db/sql/95_sla.sql; the sweep in chat/sla.c).

-- NULL: always open / no SLA / no rules. Shapes in docs/openapi.yaml (Team).
ALTER TABLE teams ADD COLUMN business_hours jsonb,
                  ADD COLUMN sla jsonb,
                  ADD COLUMN escalation jsonb;

-- What the clocks and rules read, kept by post_messages (the one writer of
-- messages) in the row update it makes anyway:
--   awaiting_since     the visitor's oldest message no person has answered yet
--   first_response_at  the first answer to the visitor (agent, API or bot)
--   last_reply_at      the latest answer to the visitor
--   last_visitor_at    the visitor's latest message
-- and by the SLA sweep: the due times (computed once per anchor, in business
-- time when the team says so), and when the queue-wait rule last acted.
ALTER TABLE conversations ADD COLUMN awaiting_since timestamptz,
                          ADD COLUMN first_response_at timestamptz,
                          ADD COLUMN last_reply_at timestamptz,
                          ADD COLUMN last_visitor_at timestamptz,
                          ADD COLUMN sla_first_due_at timestamptz,
                          ADD COLUMN sla_next_due_at timestamptz,
                          ADD COLUMN sla_resolution_due_at timestamptz,
                          ADD COLUMN queue_rule_at timestamptz,
                          -- agents who let it wait unanswered (not offered it again)
                          ADD COLUMN declined_agent_ids bigint[] NOT NULL DEFAULT '{}'
                              CHECK (cardinality(declined_agent_ids) <= 8),
                          ADD COLUMN auto_assigned boolean NOT NULL DEFAULT false;

-- Each missed target once: the sweep inserts, and the primary key lets only
-- one node's insert through.
CREATE TABLE sla_breaches (
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('first_response', 'next_response', 'resolution')),
    due_at           timestamptz NOT NULL,
    breached_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, kind, due_at)
);
CREATE INDEX sla_breaches_breached_idx ON sla_breaches (breached_at);

-- The sweeps look for open conversations only; the breach check for the
-- earliest due time.
CREATE INDEX conversations_open_team_idx ON conversations (team_id, status) WHERE status IN ('queued', 'assigned');
CREATE INDEX conversations_sla_due_idx ON conversations (least(sla_first_due_at, sla_next_due_at, sla_resolution_due_at))
    WHERE status IN ('queued', 'assigned');
