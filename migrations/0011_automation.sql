-- 0011_automation: admin-managed automation rules (the engine is
-- chat/rules.c, pure; chat/automation.c stores, caches and runs them).
-- A rule is {"trigger", "match", "conditions", "actions"}, validated by
-- rules_validate before it is stored; ids its actions name are checked to
-- exist when saved and again when run.
CREATE TABLE automation_rules (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    enabled     boolean NOT NULL DEFAULT true,
    -- Rules run in this order (then by id); each matching rule's actions run.
    position    integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    rule        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
