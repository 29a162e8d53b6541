// Reproduces docs/meeting-choice.png, docs/result-card.png, docs/email-card.png and docs/email-outbox.png by driving the Microsoft 365 Agents Playground
// headless against the bot in local mode (no Azure, no internet).
//
// How to run (Debian; nothing is installed into the repo):
//   apt-get install -y chromium                                   # /usr/bin/chromium
//   mkdir -p /tmp/pw && npm install --prefix /tmp/pw playwright-core
//   .venv/bin/python -m manifest playground       # in a second terminal: bot on 127.0.0.1:3978, playground on :56150
//   NODE_PATH=/tmp/pw/node_modules node docs/playground_screenshot.cjs
// then press Ctrl+C in the second terminal, which stops both. (SIGTERM to the launcher would leave both running.)
//
// Environment: PLAYGROUND_URL (default http://127.0.0.1:56150), BOT_URL (default http://127.0.0.1:3978, for the
// local-mode outbox page), CHROMIUM (default /usr/bin/chromium),
// OUT_DIR (default: this folder), FAIL_DIR (default /tmp: playground-help.png, and a screenshot and the page text
// of a failed step).
// Local mode gives each new user three sample meetings, so it needs no setup; it can be re-run against the same bot.
// Prints one line per step with its duration in milliseconds; exits 1 on the first failure.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const URL = process.env.PLAYGROUND_URL || 'http://127.0.0.1:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978';
const OUT_DIR = process.env.OUT_DIR || __dirname;
const FAIL_DIR = process.env.FAIL_DIR || os.tmpdir();
const STEP_TIMEOUT_MS = 20000;
// The flags that work on a machine with no outside network: without the background-networking ones Chromium
// keeps trying Google's hosts.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Runs one named step, prints its duration, and on failure keeps what a person needs to see why. */
async function step(page, name, action) {
  const started = Date.now();
  try {
    await action();
  } catch (error) {
    const base = path.join(FAIL_DIR, `playground-failure-${name}`);
    await page.screenshot({ path: `${base}.png` }).catch(() => undefined);
    const text = await page.locator('body').innerText().catch(() => '');
    fs.writeFileSync(`${base}.txt`, text);
    console.error(`FAIL ${name} after ${Date.now() - started} ms: ${error.message.split('\n')[0]}`);
    console.error(`     see ${base}.png and ${base}.txt`);
    error.reported = true;
    throw error;
  }
  console.log(`ok   ${name.padEnd(16)} ${Date.now() - started} ms`);
}

/** Sends a chat message the way a person does: type in the compose box, press Enter. */
async function send(page, text) {
  // The compose box is a Lexical contenteditable (no placeholder attribute); typed keys reach it like a user's.
  const box = page.locator('[data-lexical-editor="true"]');
  await box.click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/** Takes a screenshot without a hover highlight or focus ring left by the last click. */
async function shoot(page, file) {
  await page.mouse.move(1270, 500); // empty chat background, right of the cards
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.waitForTimeout(300); // let the chat finish scrolling the new card into view
  await page.screenshot({ path: file });
}

/** The newest bot card that contains `text`: earlier cards stay in the chat and may hold the same words. */
function latest(page, text) {
  return page.getByText(text, { exact: true }).last();
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-chromium-'));
  try {
    await drive(userDataDir);
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

/** Chromium with a fresh profile (no first-run state), closed again whatever happens. */
async function drive(userDataDir) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);

    await step(page, 'open', async () => {
      await page.goto(URL);
      await page.getByText('Personal Chat', { exact: true }).first().click();
    });
    await step(page, 'welcome-card', async () => {
      await latest(page, 'Client links for virtual appointments').waitFor();
    });
    await step(page, 'close-log-panel', async () => {
      // The log panel takes a quarter of the width; the cards read better without it.
      await page.getByText('Log Panel', { exact: true }).locator('xpath=..').getByRole('button').last().click();
      await page.getByText('Log Panel', { exact: true }).waitFor({ state: 'hidden' });
    });
    await step(page, 'help', async () => {
      await send(page, 'help');
      await latest(page, 'How to use me').waitFor();
      await shoot(page, path.join(FAIL_DIR, 'playground-help.png'));
    });
    await step(page, 'meeting-choice', async () => {
      await send(page, 'get link');
      await latest(page, 'Your next online meetings and appointments').waitFor();
      await shoot(page, path.join(OUT_DIR, 'meeting-choice.png'));
    });
    await step(page, 'client-form', async () => {
      await page.getByRole('button', { name: 'Choose', exact: true }).first().click();
      await page.getByLabel('Client name').last().waitFor();
    });
    await step(page, 'result-card', async () => {
      await page.getByLabel('Client name').last().fill('Alex Morgan');
      await page.getByLabel('Client email').last().fill('alex.morgan@example.com');
      await page.getByLabel('Language of the email').last().click(); // a Fluent UI dropdown, not a <select>
      await page.getByRole('option', { name: 'Español', exact: true }).click();
      await page.getByRole('button', { name: 'Continue', exact: true }).last().click();
      await latest(page, "Here's your client's join link").waitFor();
      await shoot(page, path.join(OUT_DIR, 'result-card.png'));
    });
    await step(page, 'email-card', async () => {
      await page.getByRole('button', { name: 'Email the link', exact: true }).last().click();
      await latest(page, 'Email the link to alex.morgan@example.com, in Español?').waitFor();
      await page.getByRole('button', { name: 'Send', exact: true }).last().click();
      await latest(page, "Done: I've emailed the link to a•••@example.com.").waitFor();
      await shoot(page, path.join(OUT_DIR, 'email-card.png'));
    });
    await step(page, 'email-outbox', async () => {
      const outbox = await page.context().newPage();
      await outbox.setViewportSize({ width: 900, height: 900 });
      await outbox.goto(`${BOT_URL}/outbox`);
      await outbox.frameLocator('iframe').first().getByText('Unirse a la cita').waitFor();
      await outbox.screenshot({ path: path.join(OUT_DIR, 'email-outbox.png') });
      await outbox.close();
    });
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  if (!error.reported) console.error(`FAIL ${error.message.split('\n')[0]}`); // e.g. Chromium did not start
  process.exitCode = 1;
});
