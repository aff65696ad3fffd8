'use strict';
// The agent changes their own password from the console: the form is
// reachable from the agent's own menu (their name in the sidebar), checks what it can
// before asking the server (length, repetition, a new value), shows the
// server's verdict on the current password, and on success keeps this
// console connected while the agent's other session (another browser) is
// sent back to the sign-in page. Screenshots of the form at 1280×800 and
// 390×844, in English and in Chinese (browser language zh-CN), go to
// build/screenshots/.

const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');

const { REPO_ROOT } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { login } = require('../helpers/http');
const { createAgent, createTeam } = require('../helpers/fixtures');
const { openConsole, loginUI, waitConnectedUI } = require('../helpers/browser');

const SHOTS = path.join(REPO_ROOT, 'build', 'screenshots');

const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

/** The agent's own menu (their name in the sidebar), then "Change password". */
async function openForm(page) {
  await page.click('[data-testid=me-menu]');
  await page.click('[data-testid=change-password]');
  await page.waitForSelector('[data-testid=password-form]');
}

async function fill(page, current, fresh, again = fresh) {
  await page.fill('[data-testid=password-current]', current);
  await page.fill('[data-testid=password-new]', fresh);
  await page.fill('[data-testid=password-again]', again);
}

/** The form's visible texts: field errors and the general notice. */
const errorsOf = (page) => page.locator('.modal .field-error, [data-testid=password-error]').allInnerTexts();

test('an agent changes their password: checks, wrong current password, success; the other session ends, this one stays', async () => {
  const team = await createTeam(fx.pg);
  const agent = await createAgent(fx.pg, { name: 'Paula Password', teams: [team] });
  const elsewhere = await openConsole(fx.browser, fx.srv);
  await loginUI(elsewhere.page, agent);
  const { context, page, problems } = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  await loginUI(page, agent);

  await openForm(page);
  assert.equal(await page.locator('.modal h2').innerText(), 'Change your password');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'pw-current', 'the current password has the focus');

  // Checked in the page before anything is sent.
  await fill(page, agent.password, 'short');
  await page.click('[data-testid=password-submit]');
  assert.deepEqual(await errorsOf(page), ['Use at least 8 characters.']);
  await fill(page, agent.password, agent.password);
  await page.click('[data-testid=password-submit]');
  assert.deepEqual(await errorsOf(page), ['Choose a password different from your current one.']);
  await fill(page, agent.password, 'a fresh passphrase', 'a fresh passphrase!');
  await page.click('[data-testid=password-submit]');
  assert.deepEqual(await errorsOf(page), ['The two new passwords are not the same.']);

  // The server's verdict on the current password.
  await fill(page, 'not my password', 'a fresh passphrase');
  await page.click('[data-testid=password-submit]');
  await page.waitForSelector('.modal .field-error');
  assert.deepEqual(await errorsOf(page), ['This is not your current password.']);
  await waitConnectedUI(page);

  await fill(page, agent.password, 'a fresh passphrase');
  await page.click('[data-testid=password-submit]');
  await page.waitForSelector('[data-testid=password-form]', { state: 'detached' });
  await page.waitForSelector('.toast-success');
  assert.match(await page.locator('.toast-success').innerText(), /password has been changed/);

  // The other browser is signed out at once (its socket closed with 4002);
  // this one stays connected.
  await elsewhere.page.waitForSelector('#login-email', { timeout: 10000 });
  assert.match(await elsewhere.page.locator('.login-page').innerText(), /signed out/i);
  await waitConnectedUI(page);
  assert.equal((await login(fx.srv, agent.email, agent.password)).res.status, 401);
  assert.equal((await login(fx.srv, agent.email, 'a fresh passphrase')).res.status, 200);
  assert.deepEqual(await problems(), []);
  assert.deepEqual(await elsewhere.problems(), []);
  await context.close();
  await elsewhere.context.close();
});

for (const locale of ['en', 'zh-CN']) {
  test(`screenshots of the form (${locale}) at 1280×800 and 390×844`, async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    const agent = await createAgent(fx.pg, { name: locale === 'en' ? 'Alexandra Montgomery-Fitzgerald' : '王晓明' });
    for (const [w, h] of [
      [1280, 800],
      [390, 844],
    ]) {
      const { context, page, problems } = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
      await loginUI(page, agent);
      await page.click('[data-testid=me-menu]');
      await page.waitForSelector('[data-testid=change-password]');
      assert.equal(await page.locator('[data-testid=change-password]').innerText(), locale === 'en' ? 'Change password' : '修改密码');
      await page.screenshot({ path: path.join(SHOTS, `console-password-menu-${locale}-${w}x${h}.png`) });
      await page.click('[data-testid=change-password]');
      await page.waitForSelector('[data-testid=password-form]');
      const title = await page.locator('.modal h2').innerText();
      assert.equal(title, locale === 'en' ? 'Change your password' : '修改您的密码');
      assert.equal(await page.locator('.modal').getAttribute('lang'), locale);
      // One field with an error, one with its hint: the longest texts.
      await fill(page, 'current password', 'a fresh passphrase', 'a different one');
      await page.click('[data-testid=password-submit]');
      await page.waitForSelector('.modal .field-error');
      // Nothing of the form is outside the window or cut off.
      const box = await page.locator('.modal').boundingBox();
      assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= w && box.y + box.height <= h, `the dialog does not fit ${w}×${h}: ${JSON.stringify(box)}`);
      const clipped = await page.evaluate(() =>
        [...document.querySelectorAll('.modal label, .modal .field-hint, .modal .field-error, .modal button, .modal h2, .me-menu-item')]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => el.textContent),
      );
      assert.deepEqual(clipped, [], 'texts overflow their boxes');
      await page.screenshot({ path: path.join(SHOTS, `console-password-${locale}-${w}x${h}.png`) });
      assert.deepEqual(await problems(), []);
      await context.close();
    }
  });
}
