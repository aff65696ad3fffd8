/* api: the HTTP handlers, one api_*.c file per resource, and the route table
 * (routes.c) that maps method + path to them. A handler authenticates,
 * validates its input, calls the domain (chat/) and maps the result to
 * HTTP; it runs no SQL. What several files share is api_common.h. */
#ifndef PARLEY_API_H
#define PARLEY_API_H

#include "http/http.h"

/* api_health.c */
void api_healthz(struct http_req *req);
void api_readyz(struct http_req *req);
void api_metrics(struct http_req *req);

/* api_auth.c */
void api_auth_login(struct http_req *req);
void api_auth_logout(struct http_req *req);
void api_auth_me(struct http_req *req);
void api_auth_password(struct http_req *req);

/* api_widget.c */
void api_widget_session(struct http_req *req);
void api_widget_beat(struct http_req *req);
void api_widget_session_preflight(struct http_req *req);
void api_widget_site(struct http_req *req);
void api_demo_page(struct http_req *req);

/* api_calls.c */
void api_calls_ice_servers(struct http_req *req);
void api_widget_calls_ice_servers(struct http_req *req);
void api_calls_settings(struct http_req *req);

/* api_agents.c */
void api_agents_list(struct http_req *req);
void api_agents_create(struct http_req *req);
void api_agents_update(struct http_req *req);

/* api_teams.c */
void api_teams_list(struct http_req *req);
void api_teams_create(struct http_req *req);
void api_teams_update(struct http_req *req);

/* api_sites.c */
void api_sites_list(struct http_req *req);
void api_sites_create(struct http_req *req);
void api_sites_update(struct http_req *req);

/* api_canned.c */
void api_canned_list(struct http_req *req);
void api_canned_create(struct http_req *req);
void api_canned_update(struct http_req *req);
void api_canned_delete(struct http_req *req);

/* api_conversations.c */
void api_conversations_list(struct http_req *req);
void api_conversation_get(struct http_req *req);

/* api_tokens.c */
void api_tokens_list(struct http_req *req);
void api_tokens_create(struct http_req *req);
void api_tokens_revoke(struct http_req *req);

/* api_v1_conversations.c */
void api_v1_conversations_list(struct http_req *req);
void api_v1_conversation_get(struct http_req *req);
void api_v1_messages_list(struct http_req *req);
void api_v1_message_create(struct http_req *req);
void api_v1_assign(struct http_req *req);
void api_v1_handoff(struct http_req *req);
void api_v1_close(struct http_req *req);
void api_v1_reopen(struct http_req *req);

/* api_v1_escalation.c */
void api_v1_participant_add(struct http_req *req);
void api_v1_participant_remove(struct http_req *req);
void api_v1_escalate(struct http_req *req);
void api_v1_conversation_update(struct http_req *req);

/* api_labels.c (console and v1) */
void api_labels_list(struct http_req *req);
void api_labels_create(struct http_req *req);
void api_labels_update(struct http_req *req);
void api_labels_delete(struct http_req *req);

/* api_visitors.c (console) */
void api_visitors_online(struct http_req *req);
void api_visitor_context(struct http_req *req);
void api_visitor_invite(struct http_req *req);
void api_geo(struct http_req *req);
void api_invitation_rules_list(struct http_req *req);
void api_invitation_rules_create(struct http_req *req);
void api_invitation_rules_update(struct http_req *req);
void api_invitation_rules_delete(struct http_req *req);

/* api_automation.c (console and v1) */
void api_automation_list(struct http_req *req);
void api_automation_create(struct http_req *req);
void api_automation_update(struct http_req *req);
void api_automation_delete(struct http_req *req);

/* api_v1_transcripts.c */
void api_v1_transcript(struct http_req *req);
void api_v1_transcripts_export(struct http_req *req);

/* api_reports.c: reports, for the console (session; an agent sees their
 * own) and REST v1 (reports:read) alike. */
void api_reports_summary(struct http_req *req);
void api_reports_timeseries(struct http_req *req);
void api_reports_agents(struct http_req *req);
void api_reports_heatmap(struct http_req *req);
void api_reports_activity(struct http_req *req);
void api_reports_conversations(struct http_req *req);
void api_reports_export(struct http_req *req);

/* api_v1_workspace.c */
void api_v1_visitor_journey(struct http_req *req);
void api_v1_visitor_get(struct http_req *req);
void api_v1_agents(struct http_req *req);
void api_v1_teams(struct http_req *req);
void api_v1_sites(struct http_req *req);

/* api_files.c */
void api_files_upload(struct http_req *req);
void api_v1_files_upload(struct http_req *req);
void api_files_get(struct http_req *req);
void api_files_link(struct http_req *req);
void api_v1_files_get(struct http_req *req);
void api_conversation_files(struct http_req *req);

/* api_webhooks.c (console /api/webhooks and REST /api/v1/webhooks) */
void api_webhooks_list(struct http_req *req);
void api_webhooks_create(struct http_req *req);
void api_webhooks_get(struct http_req *req);
void api_webhooks_update(struct http_req *req);
void api_webhooks_delete(struct http_req *req);
void api_webhooks_rotate(struct http_req *req);
void api_webhooks_test(struct http_req *req);
void api_webhooks_deliveries(struct http_req *req);
void api_webhooks_delivery(struct http_req *req);
void api_webhooks_redeliver(struct http_req *req);

/* api_bots.c (console /api/bots and REST /api/v1/bots) */
void api_bots_list(struct http_req *req);
void api_bots_create(struct http_req *req);
void api_bots_get(struct http_req *req);
void api_bots_update(struct http_req *req);
void api_bots_delete(struct http_req *req);
void api_bots_token(struct http_req *req);

/* routes.c */
extern const struct http_route api_routes[];
extern const size_t api_nroutes;

#endif
