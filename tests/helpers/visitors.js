'use strict';
// Visitors for the console e2e tests, driven over /ws/visitor from node:
// a session with any User-Agent (the visitor panel shows browser and OS),
// optionally a verified identity, then an authenticated socket.
//
//   const v = await visitorWithAgent(srv, site, { userAgent: UA_MAC_SAFARI, identity: {...} });
//   const cid = (await v.ack({ type: 'conversation.start', prechat: {...} })).conversation.id;

const { request } = require('./http');
const { connectVisitor, identityHash } = require('./fixtures');

const UA = {
  macSafari: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  winChrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  androidFirefox: 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
};

/**
 * POST /api/widget/session with a chosen User-Agent (and identity), then an
 * authenticated visitor socket. identity: { id, name, email } signed with
 * site.identitySecret here.
 */
async function visitorWithAgent(srv, site, { userAgent, identity, origin = site.origin, label } = {}) {
  const json = { site_key: site.key };
  if (identity) json.identity = { ...identity, hash: identityHash(site.identitySecret, identity.id, identity) };
  const headers = { Origin: origin };
  if (userAgent) headers['User-Agent'] = userAgent;
  const res = await request(srv, { method: 'POST', path: '/api/widget/session', headers, json });
  if (res.status !== 200) throw new Error(`POST /api/widget/session answered ${res.status}: ${res.body}`);
  return connectVisitor(srv, site, { token: res.json.visitor_token, origin, label: label || 'visitor' });
}

module.exports = { UA, visitorWithAgent };
