import test from 'ava';
import { prometheusText } from '../../analysis/analyses/prometheus-text.ts';
import { redMetrics } from '../../analysis/analyses/red-metrics.ts';
import {
  otThreshold,
  samplingWeight,
  thresholdToProbability,
  type Weight,
} from '../../analysis/analyses/sampling-weight.ts';
import type { Span } from '../../analysis/model.ts';

const span = (over: Partial<Span>): Span => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  parentSpanId: null,
  name: 'GET /x',
  kind: 'server',
  service: 'svc',
  startUs: 0,
  endUs: 1000,
  status: 'unset',
  statusMessage: '',
  attributes: {},
  resource: {},
  events: [],
  links: [],
  ...over,
});

const weights: Array<{ name: string; s: Partial<Span>; weight: number; source: Weight['source']; invalid?: boolean }> =
  [
    { name: 'no sampling information', s: {}, weight: 1, source: 'none' },
    { name: 'ot=th:0 keeps everything', s: { traceState: 'ot=th:0' }, weight: 1, source: 'tracestate' },
    { name: 'ot=th:8 is one in two', s: { traceState: 'ot=th:8' }, weight: 2, source: 'tracestate' },
    {
      name: 'ot=th:c among other ot fields and vendors',
      s: { traceState: 'vendor=x,ot=rv:0123456789abcd;th:c' },
      weight: 4,
      source: 'tracestate',
    },
    {
      name: 'th:fd70a4 (≈1%)',
      s: { traceState: 'ot=th:fd70a4' },
      weight: 2 ** 56 / (2 ** 56 - 0xfd70a400000000),
      source: 'tracestate',
    },
    {
      name: 'threshold attribute',
      s: { attributes: { 'meshtrace.sampling.threshold': 'e' } },
      weight: 8,
      source: 'threshold-attribute',
    },
    {
      name: 'probability attribute',
      s: { attributes: { 'sampling.probability': 0.1 } },
      weight: 10,
      source: 'probability-attribute',
    },
    {
      name: 'tracestate wins over attributes',
      s: { traceState: 'ot=th:8', attributes: { 'sampling.probability': 0.1 } },
      weight: 2,
      source: 'tracestate',
    },
    {
      name: 'malformed th counts as 1, flagged',
      s: { traceState: 'ot=th:xyz' },
      weight: 1,
      source: 'none',
      invalid: true,
    },
    {
      name: 'th longer than 14 digits',
      s: { traceState: 'ot=th:123456789abcdef' },
      weight: 1,
      source: 'none',
      invalid: true,
    },
    {
      name: 'probability out of range',
      s: { attributes: { 'sampling.probability': 0 } },
      weight: 1,
      source: 'none',
      invalid: true,
    },
  ];

for (const w of weights) {
  test(`sampling weight: ${w.name}`, (t) => {
    const got = samplingWeight(span(w.s));
    t.is(got.weight, w.weight, w.name);
    t.is(got.source, w.source, w.name);
    t.is(got.invalid, w.invalid ?? false, w.name);
  });
}

test('threshold parsing follows the OTel definition', (t) => {
  t.is(thresholdToProbability('0'), 1);
  t.is(thresholdToProbability('8'), 0.5);
  t.is(thresholdToProbability('ffffffffffffff'), 1 / 2 ** 56);
  t.is(thresholdToProbability('G'), null);
  t.is(otThreshold('a=b, ot=th:4;rv:00'), '4');
  t.is(otThreshold('ot=rv:00'), null);
});

// A strict reader of the text exposition format (0.0.4), independent of the writer.
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string>; help: Map<string, string> } {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('exposition must end with a line feed');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      const map = m[1] === 'HELP' ? help : types;
      if (map.has(m[2]!)) throw new Error(`${where}: second ${m[1]} for ${m[2]}`);
      if (m[1] === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!))
        throw new Error(`${where}: bad type`);
      map.set(m[2]!, m[3]!);
      return;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`${where}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      if (!lm) throw new Error(`${where}: bad labels at ${rest}`);
      labels[lm[1]!] = lm[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
    }
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value)) throw new Error(`${where}: bad value ${m[3]}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`${where}: sample before its TYPE`);
    samples.push({ name: m[1]!, labels, value });
  });
  return { samples, types, help };
}

test('RED metrics in Prometheus text parse back to the same sampling-adjusted numbers', (t) => {
  const awkward = 'we"ird\\svc\nname';
  const spans: Span[] = [
    span({ spanId: '0000000000000001', service: awkward, endUs: 3_000, traceState: 'ot=th:c' }),
    span({ spanId: '0000000000000002', service: awkward, endUs: 40_000, status: 'error', traceState: 'ot=th:c' }),
    span({ spanId: '0000000000000003', service: awkward, endUs: 2_000_000, traceState: 'ot=th:c' }),
    span({ spanId: '0000000000000004', service: 'plain', name: 'op', endUs: 7_000 }),
    // Not an entry span: a client call inside a request is not a request.
    span({
      spanId: '0000000000000005',
      parentSpanId: '0000000000000004',
      kind: 'client',
      service: 'plain',
      name: 'call',
    }),
  ];
  const red = redMetrics(spans);
  const { samples, types, help } = parseExposition(prometheusText(red));
  t.is(types.get('meshtrace_requests_total'), 'counter');
  t.is(types.get('meshtrace_request_duration_seconds'), 'histogram');
  t.true(help.has('meshtrace_request_errors_total'));
  const one = (name: string, labels: Record<string, string>) => {
    const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (found.length !== 1) throw new Error(`${found.length} samples for ${name} ${JSON.stringify(labels)}`);
    return found[0]!.value;
  };
  const sel = { service: awkward, operation: 'GET /x' };
  t.is(one('meshtrace_requests_total', sel), 12, 'three spans sampled at 1/4');
  t.is(one('meshtrace_request_errors_total', sel), 4);
  t.is(one('meshtrace_request_duration_seconds_count', sel), 12);
  t.true(Math.abs(one('meshtrace_request_duration_seconds_sum', sel) - 4 * (0.003 + 0.04 + 2)) < 1e-9);
  t.is(one('meshtrace_request_duration_seconds_bucket', { ...sel, le: '0.005' }), 4);
  t.is(one('meshtrace_request_duration_seconds_bucket', { ...sel, le: '0.05' }), 8);
  t.is(one('meshtrace_request_duration_seconds_bucket', { ...sel, le: '2.5' }), 12);
  t.is(one('meshtrace_request_duration_seconds_bucket', { ...sel, le: '+Inf' }), 12);
  t.is(one('meshtrace_requests_total', { service: 'plain', operation: 'op' }), 1);
  t.false(samples.some((s) => s.labels.operation === 'call'));
  // Buckets are cumulative: never decreasing in le order.
  const buckets = samples.filter((s) => s.name.endsWith('_bucket') && s.labels.service === awkward);
  for (let i = 1; i < buckets.length; i++) t.true(buckets[i]!.value >= buckets[i - 1]!.value);
});
