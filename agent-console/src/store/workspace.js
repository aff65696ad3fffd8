// workspace: the admin resources the console shows everywhere (agents with
// their presence, teams, canned responses), loaded over REST and refreshed
// by the admin pages, and the agent's own status. Owns S.agents, S.teams,
// S.canned, S.status.

import { get } from '../lib/api.js';
import { isOpen, request } from './socket.js';
import { S, changed } from './state.js';
import { toast } from './view.js';

export async function loadWorkspace() {
  const t0 = Date.now();
  const [agents, teams, canned] = await Promise.allSettled([get('/api/agents'), get('/api/teams'), get('/api/canned')]);
  if (agents.status === 'fulfilled') setAgents(agents.value.agents, t0);
  if (teams.status === 'fulfilled') S.teams = teams.value.teams;
  if (canned.status === 'fulfilled') S.canned = canned.value.canned;
  changed();
}

// Presence heard on the socket, newer than a REST answer that was asked
// for before it arrived.
const presenceSeen = new Map(); // agent id -> {status, connected, at}

export function setAgents(list, askedAt = 0) {
  S.agents = new Map(
    list.map((a) => {
      const p = presenceSeen.get(a.id);
      return [a.id, p && p.at >= askedAt ? { ...a, status: p.status, connected: p.connected } : a];
    }),
  );
  const mine = S.agents.get(S.me && S.me.id);
  if (mine && S.me) {
    S.me = { ...S.me, max_chats: mine.max_chats, name: mine.name, role: mine.role };
  }
}

export async function refreshAgents() {
  const t0 = Date.now();
  try {
    setAgents((await get('/api/agents')).agents, t0);
    changed();
  } catch {
    /* keep what we have */
  }
}

export async function refreshTeams() {
  try {
    S.teams = (await get('/api/teams')).teams;
    changed();
  } catch {
    /* keep */
  }
}

export async function refreshCanned() {
  try {
    S.canned = (await get('/api/canned')).canned;
    changed();
  } catch {
    /* keep */
  }
}

/** agent.presence: an agent's status or connection changed. */
export function onPresence(m) {
  presenceSeen.set(m.agent_id, { status: m.status, connected: m.connected, at: Date.now() });
  const a = S.agents.get(m.agent_id);
  if (a) S.agents.set(m.agent_id, { ...a, status: m.status, connected: m.connected });
  else refreshAgents();
  if (S.me && m.agent_id === S.me.id) S.status = m.status;
  changed();
}

export function setStatus(status) {
  if (!isOpen()) {
    toast('Not connected — your status will be set once the connection is back.', 'error');
    return;
  }
  const prev = S.status;
  S.status = status;
  changed();
  request({ type: 'status.set', status }).then(
    (ack) => {
      S.status = ack.status;
      changed();
    },
    (e) => {
      S.status = prev;
      toast(`Could not change your status: ${e.message}`, 'error');
      changed();
    },
  );
}
