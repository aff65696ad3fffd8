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
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
