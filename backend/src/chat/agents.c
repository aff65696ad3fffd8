#include "chat/agents.h"

#include "core/log.h"
#include "core/password.h"
#include "core/text.h"
#include "core/token.h"

#include <stdio.h>
#include <string.h>

const char *agents_email_error(const char *email)
{
    size_t n = strlen(email);
    const char *at = strchr(email, '@');
    if (n < 3 || n > AGENT_EMAIL_MAX)
        return "must be 3 to 254 characters";
    if (text_utf8_chars(email, n) < 0 || text_ident_error(email, n) || strpbrk(email, " <>\"'\\,;"))
        return "must be a plain email address";
    if (!at || at == email || strchr(at + 1, '@') || at[1] == '\0')
        return "must contain one @ with text on both sides";
    return NULL;
}

/* A name is what visitors and colleagues recognise an agent by: an
 * identifier (text_ident_error), so it cannot reorder or hide the text
 * shown next to it (the transcript, the widget's header, the console). */
const char *agents_name_error(const char *name)
{
    size_t n = strlen(name);
    long chars = text_utf8_chars(name, n);
    if (chars < 0 || text_has_controls(name, n, 0))
        return "must be valid text without control characters";
    if (chars < 1 || chars > AGENT_NAME_MAX)
        return "must be 1 to 100 characters";
    return text_ident_error(name, n);
}

const char *agents_role_error(const char *role)
{
    if (strcmp(role, "admin") == 0 || strcmp(role, "supervisor") == 0 || strcmp(role, "agent") == 0)
        return NULL;
    return "must be admin, supervisor or agent";
}

int agents_create(struct db_pool *pool, const char *email, const char *name, const char *role, const char *password,
                  long long *id, const char **message)
{
    char hash[PASSWORD_HASH_MAX];
    const char *params[4] = {email, name, role, hash};
    PGresult *res = NULL;
    int rc;
    *message = agents_email_error(email);
    if (!*message)
        *message = agents_name_error(name);
    if (!*message)
        *message = agents_role_error(role);
    if (!*message)
        *message = password_policy_error(password);
    if (*message)
        return DB_E_QUERY;
    if (password_hash(password, hash, sizeof(hash)) != 0) {
        *message = "password hashing failed";
        return DB_E_QUERY;
    }
    rc = db_query(pool, &res,
                  "INSERT INTO agents (email, name, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING id", 4,
                  params);
    if (rc == DB_OK)
        *id = db_get_ll(res, 0, 0, 0);
    PQclear(res);
    return rc;
}

int agents_bootstrap_admin(struct db_pool *pool, const char *email, char *password_out, size_t outlen)
{
    PGresult *res = NULL;
    const char *message = NULL;
    long long id;
    int rc;
    if (db_query(pool, &res, "SELECT EXISTS (SELECT 1 FROM agents)", 0, NULL) != DB_OK)
        return -1;
    int exists = db_get_bool(res, 0, 0);
    PQclear(res);
    if (exists)
        return 0;
    if (token_generate("", password_out, outlen) != 0)
        return -1;
    password_out[20] = '\0'; /* 20 base64url chars: 120 bits, easy to type */
    rc = agents_create(pool, email, "Admin", "admin", password_out, &id, &message);
    if (rc == DB_E_UNIQUE)
        return 0; /* another node created it first */
    if (rc != DB_OK) {
        log_error("cannot create the first admin", "detail", message ? message : "database error");
        return -1;
    }
    return 1;
}

static void copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void agents_from_row(const PGresult *res, int row, int col, struct agent *a)
{
    a->id = db_get_ll(res, row, col, 0);
    copy_field(a->email, sizeof(a->email), db_get_str(res, row, col + 1));
    copy_field(a->name, sizeof(a->name), db_get_str(res, row, col + 2));
    copy_field(a->role, sizeof(a->role), db_get_str(res, row, col + 3));
    copy_field(a->status, sizeof(a->status), db_get_str(res, row, col + 4));
    a->max_chats = (int)db_get_ll(res, row, col + 5, 0);
}

json_t *agents_to_json(const struct agent *a)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i}", "id", (json_int_t)a->id, "email", a->email, "name", a->name,
                     "role", a->role, "status", a->status, "max_chats", a->max_chats);
}
