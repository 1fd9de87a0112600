// Debian's chromium driven by playwright-core for the UI tests: headless, a fresh profile, and
// the flags that keep it off this machine's closed network (no background requests, no updates).
// Closed and its profile removed in teardown.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A page in a fresh headless chromium; null (and the test failed) when chromium is missing. */
export async function openBrowser(t: ExecutionContext): Promise<{ context: BrowserContext; page: Page } | null> {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: run scripts/install-browser.sh (npm run setup does)`);
    return null;
  }
  const profile = mkdtempSync(join(tmpdir(), 'meshtrace-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}
