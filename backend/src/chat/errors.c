#include "chat/errors.h"

#include "db/db.h"

#include <stddef.h>

_Static_assert((int)CHAT_E_RETRY == DB_E_SERIALIZATION, "db_transaction reruns on CHAT_E_RETRY");

static const struct {
    enum chat_err err;
    struct chat_err_desc desc;
} table[] = {
    {CHAT_E_NOT_FOUND, {"not_found", 404, "not_found", "no such conversation (or transfer target)"}},
    {CHAT_E_FORBIDDEN, {"forbidden", 403, "forbidden", "not allowed for you"}},
    {CHAT_E_INVALID_STATE, {"invalid_state", 409, "conflict", "not possible in the conversation's current state"}},
    {CHAT_E_CLOSED, {"invalid_state", 409, "conflict", "the conversation is closed"}},
    {CHAT_E_AT_CAPACITY, {"at_capacity", 409, "conflict", "you are at your maximum number of chats"}},
    {CHAT_E_AGENT_UNAVAILABLE, {"agent_unavailable", 409, "conflict", "that agent is not connected"}},
    {CHAT_E_KEY_TAKEN,
     {"invalid_field", 400, "invalid_request", "this key is used by another message in the conversation"}},
    {CHAT_E_UNAVAILABLE, {"unavailable", 503, "unavailable", "the service is temporarily unavailable; retry"}},
    {CHAT_E_RETRY, {"unavailable", 503, "unavailable", "too many concurrent changes; retry"}},
    {CHAT_E_TAKEN, {"invalid_field", 409, "conflict", "this name is taken"}},
    {CHAT_E_INVALID,
     {"invalid_field", 400, "invalid_request", "a referenced item does not exist or a value is not allowed"}},
    {CHAT_E_FILE_INVALID,
     {"file_invalid", 400, "invalid_request",
      "an attachment is not your upload in this conversation, is not ready, or was sent already"}},
    {CHAT_E_FILE_TOO_LARGE, {"file_too_large", 413, "file_too_large", "the file is larger than this site allows"}},
    {CHAT_E_FILE_TYPE, {"file_type_refused", 415, "file_type_refused", "this site does not accept files of this type"}},
    {CHAT_E_FILE_REJECTED, {"file_rejected", 422, "file_rejected", "the file was refused by the malware scan"}},
    {CHAT_E_UPLOADS_DISABLED,
     {"uploads_disabled", 403, "uploads_disabled", "this site does not let visitors upload files"}},
    {CHAT_E_RATE_LIMITED, {"rate_limited", 429, "rate_limited", "too many uploads; wait before sending more"}},
    {CHAT_E_FILE_REMOVED,
     {"file_removed", 410, "file_removed", "the file was removed after the site's retention period"}},
    {CHAT_E_LIMIT, {"limit_reached", 409, "limit_reached", "the most of these that may exist exist already"}},
    {CHAT_E_VISITOR_OFFLINE, {"visitor_offline", 409, "visitor_offline", "the visitor is not on the site now"}},
    {CHAT_E_VISITOR_CHATTING,
     {"visitor_chatting", 409, "visitor_chatting", "the visitor is in a conversation already"}},
    {CHAT_E_INVITATION_OPEN,
     {"invitation_pending", 409, "invitation_pending", "the visitor has an invitation they have not answered yet"}},
    {CHAT_E_INVITATION_USED, {"invitation_used", 409, "invitation_used", "this invitation was answered already"}},
    {CHAT_E_CALLS_DISABLED, {"calls_disabled", 403, "calls_disabled", "this site does not allow this call"}},
    {CHAT_E_CALL_IN_PROGRESS,
     {"call_in_progress", 409, "call_in_progress", "a call is in progress already (in this conversation or yours)"}},
    /* Last: what an unknown value is described as. */
    {CHAT_E_INTERNAL, {"internal", 500, "internal", "internal error"}},
};

const struct chat_err_desc *chat_err_desc(enum chat_err err)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].err == err)
            return &table[i].desc;
    return &table[sizeof(table) / sizeof(table[0]) - 1].desc;
}

enum chat_err chat_err_of(int rc)
{
    if (rc <= CHAT_E_NOT_FOUND && rc >= CHAT_E_CALL_IN_PROGRESS) /* the first and the last value */
        return (enum chat_err)rc;
    switch (rc) {
    case DB_OK:
        return CHAT_OK;
    case DB_E_NOT_FOUND:
        return CHAT_E_NOT_FOUND;
    case DB_E_UNAVAILABLE:
        return CHAT_E_UNAVAILABLE;
    case DB_E_SERIALIZATION:
        return CHAT_E_RETRY;
    default:
        return CHAT_E_INTERNAL;
    }
}

enum chat_err chat_err_of_write(int rc)
{
    if (rc == DB_E_UNIQUE)
        return CHAT_E_TAKEN;
    if (rc == DB_E_CONSTRAINT)
        return CHAT_E_INVALID;
    return chat_err_of(rc);
}
