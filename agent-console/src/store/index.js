// The console's store: its state and everything that changes it, one
// module per concern. Components import from here; they read S and call
// the actions. Layers (a module imports only from those above it, except
// that view.js calls back into session.js for the route):
//
//   state.js          S, changed(), roles, per-agent localStorage
//   socket.js         the agent's socket (ui-shared/socket.js)      view.js   route, toasts, dialogs
//   workspace.js      agents, teams, canned responses, own status   notify.js chime, desktop notifications
//   conversations.js  conversation records, lists, closed search, details
//   files.js          attachments being uploaded, each conversation's files, the image zoom
//   messages.js       histories and sync, opening one, outbox, drafts   reading.js  typing, read markers, unread
//   actions.js        accept, close, reopen, transfer
//   participants.js   several agents in one chat, who is viewing, priority, labels
//   events.js         resume after (re)auth, server events, alerts
//   webhooks.js       the admins' notice of webhook endpoints the server disabled
//   session.js        boot, login, logout, session end
//   sla.js            SLA clocks (replies seen stop them locally)   board.js  the supervisors' live board
//   visitors.js       who is online (polled), invitations, a visitor's context and journey
//   reports.js        the Reports section: period and filters, its five answers, the drill-down
//   calls.js          voice and video calls: call.updated/call.signal, this tab's call (CallPeer), ICE servers

export { S, subscribe, isPrivileged, isAdmin } from './state.js';
export { reconnectNow } from './socket.js';
export { navigate, canSeeAdmin, openList, select, pageActive, toast, dismissToast } from './view.js';
export { openDialog, closeDialog, confirmDialog, resolveConfirm, setHelp, focusComposer } from './view.js';
export { refreshAgents, refreshTeams, refreshCanned, setStatus } from './workspace.js';
export { enableDesktop, toggleSound } from './notify.js';
export { lists, currentList, capacity, step, loadClosed, searchClosed } from './conversations.js';
export { pendingFor, sendErrorText, sendMessage, retrySend, discardSend, getDraft, setDraft } from './messages.js';
export { MAX_ATTACHMENTS, attachFiles, attachTransfer, stagedFor, removeStaged, retryUpload, uploading, takeUploaded } from './files.js';
export { uploadErrorText, retryable, loadConvFiles, zoomImage } from './files.js';
export { typing, markRead, unreadCount, totalUnread } from './reading.js';
export { accept, closeConv, reopen, transfer } from './actions.js';
export { PRIORITIES, priorityText, myRole, isParticipant, peopleActions, watching, inviteAgent, escalateConv, joinConv } from './participants.js';
export { takeConv, leaveConv, setPriority, setLabels, showConv, othersViewing, loadLabels, labelOf } from './participants.js';
export { setListFilter, filterActive, filterConvs, agentName, labelName, listCountries } from './participants.js';
export { noteEndpoints, noteEndpoint, forgetEndpoint, hookNoticeHidden, hideHookNotice } from './webhooks.js';
export { boot, login, logout } from './session.js';
export { slaClock } from './sla.js';
export { watchBoard, refreshBoard } from './board.js';
export { watchOnline, refreshOnline, setOnlineFilter, onlineFilterActive, inviteVisitor, openVisitorConv } from './visitors.js';
export { loadVisitorContext, loadGeo } from './visitors.js';
export { openReports, setReportQuery, loadReport, exportHref, reportParams } from './reports.js';
export { openDrill, drillMore, setDrillFilter, closeDrill, openReportConv } from './reports.js';
export { liveCall, callElsewhere, ringingCalls, canCall, siteCalls, noteSiteCalls, startCall, acceptCall, declineCall, hangUp } from './calls.js';
export { toggleMute, toggleCamera, toggleScreen, askScreen, switchDevice, setCallCollapsed } from './calls.js';
