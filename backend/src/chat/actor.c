#include "chat/actor.h"

const char *actor_kind_name(const struct actor *a)
{
    switch (a->kind) {
    case ACTOR_VISITOR:
        return "visitor";
    case ACTOR_AGENT:
        return "agent";
    case ACTOR_API:
        return "api";
    case ACTOR_BOT:
        return "bot";
    case ACTOR_SYSTEM:
        break;
    }
    return "system";
}
