// The console's words for automation rules (Admin → Automation), in
// English and Simplified Chinese; i18n.js merges them into its tables.

export const en = {};

export const zh = {};
