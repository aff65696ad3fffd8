'use strict';
// An agent who reconnects within PARLEY_AGENT_GRACE_SECONDS keeps their
// conversations; one who does not, in the same run, loses them (the
// control that shows the grace period really ran out meanwhile).

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  startConversation,
  sendMessage,
  conversationRow,
  convUpdated,
  msgCreated,
} = require('../helpers/fixtures');

const GRACE_SECONDS = 3;

const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: String(GRACE_SECONDS) } });
const { test } = fx;

test('an agent back within the grace period keeps the conversation', async () => {
  const teamK = await createTeam(fx.pg);
  const teamD = await createTeam(fx.pg);
  const siteK = await createSite(fx.pg, { teamId: teamK });
  const siteD = await createSite(fx.pg, { teamId: teamD });
  const keeper = await createAgent(fx.pg, { name: 'Kim Keeper', teams: [teamK] });
  const dropper = await createAgent(fx.pg, { name: 'Dan Dropper', teams: [teamD] });
  const k = await connectAgent(fx.srv, keeper, { status: 'online' });
  const d = await connectAgent(fx.srv, dropper, { status: 'online' });
  const vk = await connectVisitor(fx.srv, siteK, { label: "Kim's visitor" });
  const vd = await connectVisitor(fx.srv, siteD, { label: "Dan's visitor" });
  const ck = await startConversation(vk);
  const cd = await startConversation(vd);
  await vk.next(convUpdated(ck, 'assigned'), 5000, 'assignment to Kim');
  await vd.next(convUpdated(cd, 'assigned'), 5000, 'assignment to Dan');

  // Both lose their connection at the same moment; Kim is back at once.
  await Promise.all([k.terminate(), d.terminate()]);
  const k2 = await connectAgent(fx.srv, keeper, { subscribe: false, label: 'Kim reconnected' });

  // Dan's grace period runs out...
  await vd.next(convUpdated(cd, 'requeued'), (GRACE_SECONDS + 6) * 1000, "requeue of Dan's conversation");
  // ...and at least one more sweep passes.
  await new Promise((r) => setTimeout(r, 1500));
  const row = await conversationRow(fx.pg, ck);
  assert.equal(row.status, 'assigned', 'the reconnected agent lost the conversation');
  assert.equal(row.assignee_id, keeper.id);
  assert.deepEqual(vk.seen(convUpdated(ck, 'requeued')), [], "Kim's visitor was told of a requeue");

  // And the conversation still works for both.
  const hi = await sendMessage(k2, ck, 'still here');
  await vk.next(
    msgCreated(ck, (m) => m.id === hi.message.id),
    5000,
    "Kim's message",
  );
  for (const c of [vk, vd, k2]) await c.close();
});
