// Inferred links in the web UI, in a real browser (Debian chromium, playwright-core): the window
// recorded from the real legacy topology (test/linking/fixtures/legacy-c8.json.gz), relinked by
// the collector's offline pass, served by the real visualization server. A trace's timeline marks
// each span whose parent was inferred — dashed, with its confidence and who linked it — and each
// call left provisional, and counts the inferred links.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { openBrowser } from '../support/browser.ts';
import { linkWindow } from '../../analysis/linking/index.ts';
import type { Span } from '../../analysis/model.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import { startVisualizationServer } from '../../visualization/index.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'visualization');
const fixture = JSON.parse(
  gunzipSync(readFileSync(new URL('../linking/fixtures/legacy-c8.json.gz', import.meta.url))).toString('utf8'),
) as { training: Span[]; window: Span[] };

test('UI: inferred links are drawn dashed with their confidence and source; provisional calls are marked', async (t) => {
  t.timeout(120_000);
  mkdirSync(ARTIFACTS, { recursive: true });
  const spans = linkWindow(fixture.window, { history: fixture.training }).value;
  const store = await openDuckDBStore();
  t.teardown(() => store.close());
  await store.append(spans);
  const nowUs = Math.max(...spans.map((s) => s.endUs)) + 60_000_000;
  const server = await startVisualizationServer({ reader: store, port: 0, nowUs: () => nowUs });
  t.teardown(() => server.close());

  const byTrace = new Map<string, Span[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const inferredIn = (list: Span[]) => list.filter((s) => s.attributes['meshtrace.link.inferred'] === true);
  // A trace holding both kinds of inferred link: the sidecar's and the collector's.
  const [traceId, members] = [...byTrace].find(
    ([, list]) =>
      inferredIn(list).some((s) => s.attributes['meshtrace.link.source'] === 'collector') &&
      inferredIn(list).some((s) => s.attributes['meshtrace.link.source'] === undefined),
  )!;
  const provisional = spans.find((s) => s.attributes['meshtrace.link.provisional'] === true)!;
  t.truthy(traceId, 'the relinked window has a trace with sidecar and collector links');
  t.truthy(provisional, 'and calls left provisional');

  const browser = await openBrowser(t);
  if (!browser) return;
  const { page } = browser;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${server.url}/#/trace/${traceId}`);
  await page.waitForSelector('#timeline .tl-row');
  const expected = inferredIn(members);
  t.is(await page.locator('.tl-row').count(), members.length);
  const marked = await page.$$eval('.tl-row.inferred-link', (rows) => rows.map((r) => r.getAttribute('data-span-id')));
  t.deepEqual([...marked].sort(), expected.map((s) => s.spanId).sort(), 'exactly the inferred spans are marked');
  t.is(await page.locator('#inferred-links b').textContent(), String(expected.length));
  for (const s of expected) {
    const badge = page.locator(`.tl-row[data-span-id="${s.spanId}"] .link-badge.inferred`);
    const pct = Math.floor((s.attributes['meshtrace.link.confidence'] as number) * 100);
    t.is(await badge.textContent(), `⇢ ${pct} %`);
    const title = (await badge.getAttribute('title')) ?? '';
    t.regex(
      title,
      s.attributes['meshtrace.link.source'] === 'collector' ? /linked by the collector/ : /linked by the sidecar/,
    );
  }
  await page.screenshot({ path: join(ARTIFACTS, 'linking-inferred.png'), fullPage: true });

  await page.goto(`${server.url}/#/trace/${provisional.traceId}`);
  await page.waitForSelector(`.tl-row[data-span-id="${provisional.spanId}"]`);
  t.is(
    await page.locator(`.tl-row[data-span-id="${provisional.spanId}"] .link-badge.provisional`).textContent(),
    '⇢ ?',
  );
  t.deepEqual(errors, []);
});
