#include "chat/agents.h"

#include "core/password.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
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

enum chat_err agents_check_new(const char *email, const char *name, const char *role, const char *password, char *hash,
                               const char **field, const char **message)
{
    *field = NULL;
    if ((*message = agents_email_error(email)))
        *field = "email";
    else if ((*message = agents_name_error(name)))
        *field = "name";
    else if ((*message = agents_role_error(role)))
        *field = "role";
    else if ((*message = password_policy_error(password)))
        *field = "password";
    if (*field)
        return CHAT_E_INVALID;
    if (password_hash(password, hash, PASSWORD_HASH_MAX) != 0) {
        *message = "password hashing failed";
        return CHAT_E_INTERNAL;
    }
    return CHAT_OK;
}

enum chat_err agents_insert_tx(PGconn *conn, const char *email, const char *name, const char *role, const char *hash,
                               long long *id)
{
    PGresult *res = NULL;
    enum chat_err err = chat_err_of_write(db_exec(
        conn, &res, "INSERT INTO agents (email, name, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING id", 4,
        (const char *const[]){email, name, role, hash}));
    if (err == CHAT_OK)
        *id = db_get_ll(res, 0, 0, 0);
    PQclear(res);
    return err;
}

enum chat_err agents_create(struct db_pool *db, const char *email, const char *name, const char *role,
                            const char *password, long long *id, const char **field, const char **message)
{
    char hash[PASSWORD_HASH_MAX];
    enum chat_err err = agents_check_new(email, name, role, password, hash, field, message);
    if (err != CHAT_OK)
        return err;
    PGconn *conn = db_acquire(db);
    if (!conn)
        return CHAT_E_UNAVAILABLE;
    err = agents_insert_tx(conn, email, name, role, hash, id);
    db_release(db, conn);
    return err;
}

enum chat_err agents_list_json(struct db_pool *db, const char *key, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object($1::text,"
                                     " coalesce(json_agg(parley_agent_json(a) ORDER BY a.id), '[]'::json))::text"
                                     " FROM agents a",
                                     1, (const char *const[]){key}));
}

enum chat_err agents_get_json(struct db_pool *db, long long id, char **json)
{
    return chat_err_of(db_query_text(
        db, json, "SELECT json_build_object('agent', parley_agent_json(a))::text FROM agents a WHERE a.id = $1::bigint",
        1, (const char *const[]){DB_ID(id)}));
}

enum chat_err agents_all_exist(struct db_pool *db, const long long *ids, int n, int *all)
{
    return chat_err_of(db_ids_exist(db, "agents", ids, n > 0 ? (size_t)n : 0, all));
}

enum chat_err agents_check_login(struct db_pool *db, const char *email, const char *password, struct agent *out,
                                 int *verified)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    *verified = 0;
    enum chat_err err = chat_err_of(db_query(db, &res,
                                             "SELECT id, email, name, role, status, max_chats, password_hash"
                                             " FROM agents WHERE lower(email) = lower($1) AND active",
                                             1, (const char *const[]){email}));
    if (err == CHAT_OK && PQntuples(res) == 1) {
        *verified = password_verify(password, db_get_str(res, 0, 6)) == 1;
        agents_from_row(res, 0, 0, out);
    } else if (err == CHAT_OK) {
        /* The same work as a wrong password: timing tells nothing. */
        *verified = password_verify_dummy(password) == 1;
    }
    PQclear(res);
    return err;
}

enum chat_err agents_check_password(struct db_pool *db, long long id, const char *password, int *verified)
{
    PGresult *res = NULL;
    *verified = 0;
    enum chat_err err =
        chat_err_of(db_query(db, &res, "SELECT password_hash FROM agents WHERE id = $1::bigint AND active", 1,
                             (const char *const[]){DB_ID(id)}));
    if (err == CHAT_OK && PQntuples(res) == 1)
        *verified = password_verify(password, db_get_str(res, 0, 0)) == 1;
    PQclear(res);
    return err;
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
