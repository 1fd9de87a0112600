// The web UI in a real browser: Debian's chromium driven by playwright-core, headless, fresh
// profile, on generated traces. Opens the service map, clicks a service, clicks a trace, sees
// the critical path; follows an error to its origin; checks the analysis panels, that new
// spans appear without a reload (live refresh), and that no request leaves the server.
// Screenshots go to test-artifacts/visualization/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { openBrowser } from '../support/browser.ts';
import type { CriticalPath } from '../../analysis/analyses/critical-path.ts';
import type { Span } from '../../analysis/model.ts';
import type { ServiceMap } from '../../visualization/index.ts';
import { serveWorkload } from './served-workload.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'visualization');

test('UI: service map → service traces → trace with critical path; errors, analyses, live refresh', async (t) => {
  t.timeout(120_000);
  mkdirSync(ARTIFACTS, { recursive: true });
  const served = await serveWorkload(150, 21);
  t.teardown(() => served.close());
  const browser = await openBrowser(t);
  if (!browser) return;
  const { page } = browser;
  const foreign: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(served.server.url)) foreign.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  // 1. Service map: every service drawn, edges coloured by their error rate.
  await page.goto(`${served.server.url}/#/map`);
  await page.waitForSelector('#service-map .map-node');
  const map = (await served.get<ServiceMap>('/api/meshtrace/dependency-map')).body.data;
  const drawn = await page.$$eval('#service-map .map-node', (els) => els.map((e) => e.getAttribute('data-service')));
  t.deepEqual(drawn.sort(), map.nodes.map((n) => n.service).sort());
  t.is(await page.locator('#service-map .map-edge').count(), map.edges.length);
  const bankEdge = map.edges.find((e) => e.caller === 'payments' && e.callee === 'bank')!;
  const stroke = await page
    .locator('#service-map .map-edge[data-caller="payments"][data-callee="bank"] path')
    .getAttribute('stroke');
  t.is(stroke, bankEdge.errorRate < 0.01 ? '#2e9d5b' : bankEdge.errorRate < 0.05 ? '#e0a100' : '#d1343a');
  t.regex((await page.locator('h2').first().textContent()) ?? '', new RegExp(`${map.nodes.length} services`));
  await page.screenshot({ path: join(ARTIFACTS, '1-service-map.png'), fullPage: true });

  // 2. Click a service: its traces.
  await page.locator('#service-map .map-node[data-service="frontend"]').click();
  await page.waitForSelector('tr.trace-row');
  t.is(await page.locator('h2').first().textContent(), 'Traces of frontend');
  t.true((await page.locator('tr.trace-row').count()) > 5);
  await page.screenshot({ path: join(ARTIFACTS, '2-traces.png'), fullPage: true });

  // 3. Click a trace: timeline with the critical path highlighted.
  await page.locator('tr.trace-row').first().click();
  await page.waitForSelector('#critical-path');
  const traceId = decodeURIComponent(new URL(page.url()).hash.replace('#/trace/', ''));
  t.regex(traceId, /^[0-9a-f]{32}$/);
  const cp = (await served.get<{ criticalPath: CriticalPath }>(`/api/meshtrace/critical-path/${traceId}`)).body.data
    .criticalPath;
  t.is(await page.locator('.tl-cp').count(), cp.sections.length, 'one orange overlay per critical-path section');
  const onPath = new Set(cp.sections.map((s) => s.spanId));
  const highlighted = await page.$$eval('.tl-row.on-critical-path', (els) =>
    els.map((e) => e.getAttribute('data-span-id')),
  );
  t.deepEqual(new Set(highlighted), onPath);
  const spans = served.workload.spans.filter((s) => s.traceId === traceId);
  t.is(await page.locator('.tl-row').count(), spans.length);
  const chips = await page.locator('#critical-path .cp-chip').allTextContents();
  const bottleneck = served.workload.truth.bottleneck!;
  t.true(
    chips.some((c) => c.startsWith(`${bottleneck.service}: ${bottleneck.operation}`)),
    `the injected bottleneck is on the path: ${chips.join(' | ')}`,
  );
  t.true(await page.locator('.tl-cp').first().isVisible());
  // Bars are drawn in clock-skew-corrected time, like the sections: each overlay sits on its bar.
  const outside = await page.$$eval('.tl-row', (rows) =>
    rows.flatMap((row) => {
      const bar = row.querySelector('.tl-bar')!.getBoundingClientRect();
      return [...row.querySelectorAll('.tl-cp')]
        .map((c) => c.getBoundingClientRect())
        .filter((c) => c.left < bar.left - 1.5 || c.right > bar.right + 1.5)
        .map(() => row.getAttribute('data-span-id'));
    }),
  );
  t.deepEqual(outside, [], 'critical-path overlays outside their span bars');
  await page.screenshot({ path: join(ARTIFACTS, '3-trace-critical-path.png'), fullPage: true });

  // 4. Errors: the origin and its propagation path, then into that trace.
  await page.locator('nav a[data-view="errors"]').click();
  await page.waitForSelector('tr.origin-row');
  const origin = served.workload.truth.errorOrigin!;
  t.deepEqual((await page.locator('tr.origin-row td').allTextContents()).slice(0, 2), [
    origin.service,
    origin.operation,
  ]);
  await page.screenshot({ path: join(ARTIFACTS, '4-errors.png'), fullPage: true });
  await page.locator('.propagation').first().click();
  await page.waitForSelector('#error-origin');
  t.is(await page.locator('#error-origin .chip.origin').textContent(), `${origin.service}: ${origin.operation}`);
  t.is(await page.locator('.tl-row.error-origin').count(), 1);
  await page.screenshot({ path: join(ARTIFACTS, '5-error-trace.png'), fullPage: true });

  // 5. Latency breakdown, regressions, sampling.
  await page.locator('nav a[data-view="latency"]').click();
  await page.waitForSelector('#latency-chart .latency-bar');
  t.is(
    await page.locator('#latency-chart .latency-bar').first().getAttribute('data-operation'),
    `${bottleneck.service}/${bottleneck.operation}`,
  );
  t.true((await page.locator('tr.bottleneck-row').count()) > 3);
  await page.screenshot({ path: join(ARTIFACTS, '6-latency.png'), fullPage: true });
  await page.locator('nav a[data-view="regressions"]').click();
  await page.waitForSelector('tr.regression-row');
  const reg = served.workload.truth.regression!;
  const regText = await page.locator('tr.regression-row.slower').allTextContents();
  t.true(
    regText.some(
      (r) =>
        r.includes(reg.service) && r.includes(reg.operation) && r.includes(`${reg.fromVersion} → ${reg.toVersion}`),
    ),
    regText.join(' | '),
  );
  await page.screenshot({ path: join(ARTIFACTS, '7-regressions.png'), fullPage: true });
  await page.locator('nav a[data-view="sampling"]').click();
  await page.waitForSelector('#sampling-summary');
  t.regex(
    (await page.locator('#sampling-summary').textContent()) ?? '',
    new RegExp(`${served.workload.truth.keptTraces}traces kept`),
  );
  t.deepEqual(await page.locator('tr.kept-row td').allTextContents(), [
    'unrecorded',
    String(served.workload.truth.keptTraces),
  ]);
  await page.screenshot({ path: join(ARTIFACTS, '8-sampling.png'), fullPage: true });

  // 6. Live refresh: a new service's spans show up on the open map without a reload.
  await page.locator('nav a[data-view="map"]').click();
  await page.waitForSelector('#service-map .map-node');
  const start = served.workload.truth.endUs;
  const late = (spanId: string, parent: string | null, service: string, kind: Span['kind']): Span => ({
    traceId: 'feedfacefeedfacefeedfacefeedface',
    spanId,
    parentSpanId: parent,
    name: 'late call',
    kind,
    service,
    startUs: start + (parent ? 10 : 0),
    endUs: start + (parent ? 900 : 1000),
    status: 'unset',
    statusMessage: '',
    attributes: {},
    resource: { 'service.name': service },
    events: [],
    links: [],
  });
  await served.store.append([
    late('aaaaaaaaaaaaaaa1', null, 'frontend', 'server'),
    late('aaaaaaaaaaaaaaa2', 'aaaaaaaaaaaaaaa1', 'late-arrival', 'server'),
  ]);
  await page.waitForSelector('#service-map .map-node[data-service="late-arrival"]', { timeout: 15_000 });
  t.regex(
    (await page.locator('#live').textContent()) ?? '',
    new RegExp(`live · ${served.workload.spans.length + 2} spans`),
  );
  await page.screenshot({ path: join(ARTIFACTS, '9-live-refresh.png'), fullPage: true });

  t.deepEqual(foreign, [], 'the UI fetches nothing from other hosts');
  t.deepEqual(consoleErrors, []);
});
