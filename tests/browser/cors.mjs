// What a real browser sees of the relay's CORS answers: headless Chromium (Debian's, driven by
// playwright-core from tools/node_modules) opens each page and, from inside it, fetches the relay
// twice: a simple GET, and a POST that needs a preflight (`content-type: application/json` and an
// `authorization` header). tests/browser.rs runs it and judges the results.
//
// Usage: node tests/browser/cors.mjs RELAY_URL ALLOWED_PAGE_URL OTHER_PAGE_URL
//   (or the environment: CORS_RELAY_URL, CORS_ALLOWED_PAGE, CORS_OTHER_PAGE)
//   CHROMIUM (default /usr/bin/chromium): the browser to drive.
//
// Prints one JSON line:
//   {"browser":"<version>","pages":[{"page":..,"origin":..,"get":R,"post":R,"console":[..]},..]}
// where R is {"status":200,"body":"...","ratelimit":"9"|null} when the page could read the
// answer, or {"error":{"name":"TypeError","message":"Failed to fetch"}} when the browser withheld
// it; `console` holds the page's console errors (Chromium explains a CORS block there).
// Exits 1 on any error of the script itself (bad arguments, no browser, a page that will not load).

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [relay, allowed, other] = [
  process.argv[2] ?? process.env.CORS_RELAY_URL,
  process.argv[3] ?? process.env.CORS_ALLOWED_PAGE,
  process.argv[4] ?? process.env.CORS_OTHER_PAGE,
];
if (!relay || !allowed || !other) {
  console.error('usage: node tests/browser/cors.mjs RELAY_URL ALLOWED_PAGE_URL OTHER_PAGE_URL');
  process.exit(1);
}

// Never hang a test run: the whole script has a minute.
setTimeout(() => {
  console.error('cors.mjs: gave up after 60 s');
  process.exit(1);
}, 60_000).unref();

// playwright-core is installed into tools/ (scripts/setup), not into the repository's root.
const require = createRequire(new URL('../../tools/', import.meta.url));
const { chromium } = require('playwright-core');

/** Runs inside the page: both fetches, each reported as what the page's script could see. */
async function fetchFromPage(relayUrl) {
  async function attempt(init) {
    try {
      const response = await fetch(relayUrl, { ...init, signal: AbortSignal.timeout(15000) });
      return {
        status: response.status,
        body: await response.text(),
        // null unless the relay exposes it (access-control-expose-headers).
        ratelimit: response.headers.get('x-ratelimit-remaining'),
      };
    } catch (e) {
      return { error: { name: e.name, message: e.message } };
    }
  }
  const get = await attempt({ method: 'GET' });
  const post = await attempt({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer browser-token' },
    // The page's origin travels in the body, so the upstream's log tells which page it came from.
    body: JSON.stringify({ from: location.origin }),
  });
  return { origin: location.origin, get, post };
}

const userDataDir = mkdtempSync(join(tmpdir(), 'edge-relay-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  const results = [];
  for (const url of [allowed, other]) {
    const page = await context.newPage();
    const console_ = [];
    page.on('console', (message) => {
      if (message.type() === 'error') console_.push(message.text());
    });
    const response = await page.goto(url, { timeout: 15_000 });
    if (!response || response.status() !== 200) {
      throw new Error(`the page ${url} answered ${response ? response.status() : 'nothing'}`);
    }
    const seen = await page.evaluate(fetchFromPage, relay);
    // Console messages arrive asynchronously; give the last ones a moment.
    await page.waitForTimeout(100);
    results.push({ page: url, ...seen, console: console_ });
    await page.close();
  }
  const browser = context.browser();
  console.log(JSON.stringify({ browser: browser ? browser.version() : null, pages: results }));
} catch (e) {
  console.error(`cors.mjs: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
