#include "api.h"

const struct http_route api_routes[] = {
    {"GET", "/healthz", api_healthz},
    {"GET", "/readyz", api_readyz},
    {"GET", "/metrics", api_metrics},
    {"POST", "/api/auth/login", api_auth_login},
    {"POST", "/api/auth/logout", api_auth_logout},
    {"GET", "/api/auth/me", api_auth_me},
    {"POST", "/api/widget/session", api_widget_session},
    {"OPTIONS", "/api/widget/session", api_widget_session_preflight},
    {"GET", "/api/widget/sites/{key}", api_widget_site},
    {"GET", "/demo", api_demo_page},
    {"GET", "/api/agents", api_agents_list},
    {"POST", "/api/agents", api_agents_create},
    {"PATCH", "/api/agents/{id}", api_agents_update},
    {"GET", "/api/teams", api_teams_list},
    {"POST", "/api/teams", api_teams_create},
    {"PATCH", "/api/teams/{id}", api_teams_update},
    {"GET", "/api/sites", api_sites_list},
    {"POST", "/api/sites", api_sites_create},
    {"PATCH", "/api/sites/{id}", api_sites_update},
    {"GET", "/api/canned", api_canned_list},
    {"POST", "/api/canned", api_canned_create},
    {"PATCH", "/api/canned/{id}", api_canned_update},
    {"DELETE", "/api/canned/{id}", api_canned_delete},
    {"GET", "/api/conversations", api_conversations_list},
    {"GET", "/api/conversations/{id}", api_conversation_get},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
