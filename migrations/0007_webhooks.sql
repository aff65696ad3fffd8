-- 0007_webhooks: endpoints, the outbox of events, deliveries and their
-- attempts (the functions and triggers that write them are in
-- backend/src/db/sql/70_hooks.sql; the worker is backend/src/hooks/sender.c).

-- An installation's webhook endpoint. Its signing secret is stored sealed
-- (AES-256-GCM with the key file every node reads, PARLEY_SECRET_KEY_FILE):
-- a copy of the database alone cannot sign. During a rotation's grace
-- period the previous secret signs too.
CREATE TABLE webhook_endpoints (
    id                          bigserial PRIMARY KEY,
    url                         text NOT NULL CHECK (char_length(url) BETWEEN 8 AND 2048),
    description                 text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    events                      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 32),
    include_notes               boolean NOT NULL DEFAULT false,
    enabled                     boolean NOT NULL DEFAULT true,
    -- Why it is off: an admin switched it off, the receiver answered 410
    -- Gone, or its deliveries failed for PARLEY_WEBHOOK_DISABLE_AFTER_SECONDS.
    disabled_reason             text CHECK (disabled_reason IN ('admin', 'gone', 'failing')),
    disabled_at                 timestamptz,
    -- The first failure since the last success (NULL: not failing).
    failing_since               timestamptz,
    secret                      bytea NOT NULL,
    previous_secret             bytea,
    previous_secret_expires_at  timestamptz,
    secret_rotated_at           timestamptz NOT NULL DEFAULT now(),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK (enabled = (disabled_reason IS NULL))
);

-- The outbox: one row per event, written in the transaction of the change
-- it describes, only when some enabled endpoint asked for its type. body
-- is the exact JSON text sent on every attempt (signatures cover bytes).
CREATE TABLE webhook_events (
    id               bigserial PRIMARY KEY,
    uid              text NOT NULL UNIQUE CHECK (uid ~ '^evt_[0-9a-f]{32}$'),
    type             text NOT NULL,
    conversation_id  bigint,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint. Pending deliveries of one endpoint and one
-- conversation go out one at a time in id order (the ids of one
-- conversation's events are taken under its row lock, so in commit
-- order): all but the first are blocked, and the end of one unblocks the
-- next; deliveries of a disabled endpoint are blocked too. So the due
-- index holds only what may go: a claim reads a few index entries, however
-- long the backlog. A node delivering one holds a lease (lease_node, and
-- next_attempt_at moved to the lease's end); when the node dies its
-- deliveries come due again.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    conversation_id  bigint,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    blocked          boolean NOT NULL DEFAULT false,
    lease_node       text,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending' AND NOT blocked;
CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (lease_node) WHERE lease_node IS NOT NULL;
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, conversation_id, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    id                bigserial PRIMARY KEY,
    delivery_id       bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt           integer NOT NULL,
    node_id           text NOT NULL,
    started_at        timestamptz NOT NULL,
    latency_ms        integer NOT NULL,
    response_status   integer,
    response_excerpt  text,
    error             text,
    request_headers   jsonb NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
