// Alert rules from YAML, evaluated against spans and notifying a real HTTP webhook receiver.
import test from 'ava';
import { AlertEngine } from '../../analysis/analyses/alerts/alert-engine.ts';
import { AlertConfigError, parseAlertRules } from '../../analysis/analyses/alerts/rules.ts';
import type { AlertNotification } from '../../analysis/analyses/alerts/webhook.ts';
import { MemorySpanSource } from '../../analysis/analyses/span-source.ts';
import type { Span } from '../../analysis/model.ts';
import { type Teardown, waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';

let idSeq = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** `n` requests to service/op starting at `atUs`, `failed` of them failing with `message`. */
function requests(
  service: string,
  op: string,
  atUs: number,
  n: number,
  opts: { failed?: number; durUs?: number; message?: string } = {},
): Span[] {
  const out: Span[] = [];
  for (let i = 0; i < n; i++) {
    const id = ++idSeq;
    const failed = i < (opts.failed ?? 0);
    out.push({
      traceId: hex(id, 32),
      spanId: hex(id, 16),
      parentSpanId: null,
      name: op,
      kind: 'server',
      service,
      startUs: atUs + i,
      endUs: atUs + i + (opts.durUs ?? 10_000),
      status: failed ? 'error' : 'unset',
      statusMessage: failed ? `${opts.message ?? 'boom'} #${id}` : '',
      attributes: {},
      resource: { 'service.name': service },
      events: [],
      links: [],
    });
  }
  return out;
}

const rulesYaml = (url: string, interval = '1s') => `
evaluationInterval: ${interval}
webhook:
  url: ${url}
  timeout: 2s
rules:
  - name: bank-errors
    kind: error_rate
    service: bank
    window: 1m
    above: 0.1
    minRequests: 5
  - name: checkout-p95
    kind: latency_percentile
    service: checkout
    percentile: 95
    above: 200ms
    window: 1m
  - name: email-silent
    kind: absence
    service: email
    window: 1m
  - name: new-bank-errors
    kind: new_error_pattern
    service: bank
    window: 1m
`;

const badConfigs: Array<{ name: string; yaml: string; problem: RegExp }> = [
  { name: 'not YAML', yaml: 'rules: [a', problem: /YAML/ },
  { name: 'no webhook', yaml: 'rules:\n  - {name: a, kind: absence, service: x}', problem: /webhook: required/ },
  {
    name: 'webhook url not http',
    yaml: 'webhook: {url: ftp://x}\nrules:\n  - {name: a, kind: absence, service: x}',
    problem: /webhook\.url/,
  },
  {
    name: 'unknown kind',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: errors, service: x}',
    problem: /rules\[0\]\.kind: must be one of/,
  },
  {
    name: 'rate above 1',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: error_rate, service: x, above: 5}',
    problem: /rules\[0\]\.above: error_rate threshold/,
  },
  {
    name: 'latency without unit',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: latency_percentile, service: x, above: 200}',
    problem: /rules\[0\]\.above: latency threshold must be a duration/,
  },
  {
    name: 'bad window',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: absence, service: x, window: soon}',
    problem: /rules\[0\]\.window/,
  },
  {
    name: 'duplicate name',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: absence, service: x}\n  - {name: a, kind: absence, service: y}',
    problem: /rules\[1\]\.name: "a" is used twice/,
  },
  {
    name: 'missing service',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: absence}',
    problem: /rules\[0\]\.service: required/,
  },
  {
    name: 'typo in a field',
    yaml: 'webhook: {url: http://h/}\nrules:\n  - {name: a, kind: absence, service: x, windw: 1m}',
    problem: /rules\[0\]\.windw: unknown field/,
  },
  {
    name: 'interval too short',
    yaml: 'evaluationInterval: 1ms\nwebhook: {url: http://h/}\nrules:\n  - {name: a, kind: absence, service: x}',
    problem: /evaluationInterval/,
  },
];

for (const bad of badConfigs) {
  test(`alert rules rejected with the offending field named: ${bad.name}`, (t) => {
    const err = t.throws(() => parseAlertRules(bad.yaml, 'alerts.yaml'), { instanceOf: AlertConfigError }, bad.name);
    t.regex(err!.message, /^alerts\.yaml: /, bad.name);
    t.regex(err!.message, bad.problem, bad.name);
  });
}

test('alert rules: defaults and units are applied', (t) => {
  const c = parseAlertRules(rulesYaml('http://127.0.0.1:1/hook'));
  t.is(c.evaluationIntervalMs, 1000);
  t.is(c.webhook.timeoutMs, 2000);
  const p95 = c.rules.find((r) => r.name === 'checkout-p95')!;
  t.deepEqual([p95.above, p95.percentile, p95.windowUs], [200_000, 95, 60e6]);
});

async function webhookReceiver(t: Teardown, status = () => 200) {
  const up = await startUpstream(t, () => ({ status: status() }));
  const received = () =>
    up.received
      .filter((r) => r.headers['content-type'] === 'application/json')
      .map((r) => JSON.parse(r.body) as AlertNotification);
  return { url: `http://127.0.0.1:${up.port}/hook`, received, all: up.received };
}

test('each rule kind fires and resolves, and a real webhook receives firing then resolved', async (t) => {
  const hook = await webhookReceiver(t);
  const source = new MemorySpanSource();
  let now = 1_767_225_600_000_000;
  const engine = new AlertEngine(parseAlertRules(rulesYaml(hook.url)), source, () => now);
  const minute = 60e6;
  const healthy = (at: number) => [
    ...requests('bank', 'authorize', at, 20, { failed: 1, message: 'card declined' }),
    ...requests('checkout', 'place', at, 20, { durUs: 50_000 }),
    ...requests('email', 'send', at, 3),
  ];

  source.add(healthy(now - 30e6));
  t.deepEqual(await engine.evaluate(), [], 'healthy traffic: nothing fires (the known error is the baseline)');

  now += minute;
  source.add([
    ...requests('bank', 'authorize', now - 30e6, 20, { failed: 8, message: 'ledger write failed for account 12345' }),
    ...requests('checkout', 'place', now - 30e6, 20, { durUs: 400_000 }),
  ]);
  const fired = await engine.evaluate();
  t.deepEqual(fired.map((n) => `${n.rule}:${n.state}`).sort(), [
    'bank-errors:firing',
    'checkout-p95:firing',
    'email-silent:firing',
    'new-bank-errors:firing',
  ]);
  const bank = fired.find((n) => n.rule === 'bank-errors')!;
  t.is(bank.value, 8 / 20);
  t.is(bank.threshold, 0.1);
  t.is(bank.endsAt, null);
  t.regex(fired.find((n) => n.rule === 'new-bank-errors')!.summary, /ledger write failed for account <num>/);

  now += 30e6;
  t.deepEqual(await engine.evaluate(), [], 'still firing: no repeated notification');

  now += 2 * minute;
  source.add(healthy(now - 30e6));
  const resolved = await engine.evaluate();
  t.deepEqual(resolved.map((n) => `${n.rule}:${n.state}`).sort(), [
    'bank-errors:resolved',
    'checkout-p95:resolved',
    'email-silent:resolved',
    'new-bank-errors:resolved',
  ]);
  t.truthy(resolved[0]!.endsAt);

  const got = hook.received().map((n) => `${n.rule}:${n.state}`);
  t.is(got.length, 8);
  for (const rule of ['bank-errors', 'checkout-p95', 'email-silent', 'new-bank-errors']) {
    t.deepEqual(
      got.filter((g) => g.startsWith(`${rule}:`)),
      [`${rule}:firing`, `${rule}:resolved`],
      rule,
    );
  }
  t.true(hook.all.every((r) => r.method === 'POST'));
  t.deepEqual(engine.notifier.deliveryStats(), { delivered: 8, failed: 0, dropped: 0, pending: 0 });
});

test('a failing webhook is retried on the next evaluation; nothing is thrown or lost', async (t) => {
  let status = 503;
  const hook = await webhookReceiver(t, () => status);
  const source = new MemorySpanSource();
  let now = 1_767_225_600_000_000;
  const engine = new AlertEngine(parseAlertRules(rulesYaml(hook.url)), source, () => now);
  source.add(requests('bank', 'authorize', now - 1e6, 10, { failed: 5 }));
  const sent = await engine.evaluate();
  t.true(sent.length >= 1);
  t.is(engine.notifier.deliveryStats().delivered, 0);
  t.true(engine.notifier.deliveryStats().failed >= 1);
  t.regex(engine.notifier.lastError ?? '', /HTTP 503/);
  status = 200;
  now += 1e6;
  await engine.evaluate();
  const stats = engine.notifier.deliveryStats();
  t.is(stats.pending, 0);
  t.is(stats.delivered, sent.length);
  t.true(hook.received().some((n) => n.rule === 'bank-errors' && n.state === 'firing'));
});

test('on a schedule against the wall clock: firing when errors start, resolved when they stop', async (t) => {
  const hook = await webhookReceiver(t);
  const source = new MemorySpanSource();
  const yaml = `
evaluationInterval: 100ms
webhook: {url: "${hook.url}", timeout: 1s}
rules:
  - {name: bank-errors, kind: error_rate, service: bank, window: 2s, above: 0.2, minRequests: 3}
`;
  const engine = new AlertEngine(parseAlertRules(yaml), source);
  t.teardown(() => engine.stop());
  source.replace(requests('bank', 'authorize', Date.now() * 1000 - 500_000, 10, { failed: 6 }));
  engine.start();
  await waitFor('firing notification', () => hook.received().find((n) => n.state === 'firing'), 10_000);
  source.replace(requests('bank', 'authorize', Date.now() * 1000 - 500_000, 10, { failed: 0 }));
  const resolved = await waitFor(
    'resolved notification',
    () => hook.received().find((n) => n.state === 'resolved'),
    10_000,
  );
  t.is(resolved.rule, 'bank-errors');
  t.deepEqual(
    hook.received().map((n) => n.state),
    ['firing', 'resolved'],
  );
});
