// The console's words for several agents in one conversation (participants, whispers, who is viewing), priority and labels, in
// English and Simplified Chinese; i18n.js merges them into its tables.

export const en = {};

export const zh = {};
