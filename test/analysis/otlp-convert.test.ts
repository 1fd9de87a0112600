// OTLP → model conversion as pure functions: exact nanosecond → microsecond arithmetic, id parsing
// for both encodings, attribute values and their bounds, secret redaction, enum mapping.
import test from 'ava';
import { parseId } from '../../analysis/otlp/ids.ts';
import { DEFAULT_SPAN_LIMITS } from '../../analysis/otlp/limits.ts';
import { int64Value, nanosToMicros } from '../../analysis/otlp/nanos.ts';
import { isSecretKey } from '../../analysis/otlp/redact.ts';
import { ExportTraceServiceRequest } from '../../analysis/otlp/schema.ts';
import { toSpans } from '../../analysis/otlp/to-spans.ts';
import { attributes } from '../../analysis/otlp/values.ts';

/** The {low, high} halves protobufjs gives for an int64/fixed64 (two's complement, signed 32-bit words). */
function long(n: bigint, unsigned = false) {
  const u = BigInt.asUintN(64, n);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned };
}

test('nanosToMicros is exact for every encoding of the same instant', (t) => {
  const cases: [string, bigint][] = [
    ['a recent instant', 1_732_500_000_123_456_789n],
    ['just below a µs boundary', 1_732_500_000_123_456_999n],
    ['exactly on a µs boundary', 1_732_500_000_123_457_000n],
    ['high word large (year 2200)', 7_258_118_400_000_000_999n],
  ];
  for (const [name, ns] of cases) {
    const expected = Number(ns / 1000n);
    t.is(nanosToMicros(long(ns, true)), expected, `${name} (Long)`);
    t.is(nanosToMicros(ns.toString()), expected, `${name} (decimal string)`);
  }
  t.is(nanosToMicros(1_700_000_000_000_000_000), 1_700_000_000_000_000, 'JSON number');
  const invalid: [string, unknown][] = [
    ['absent', undefined],
    ['null', null],
    ['zero Long', { low: 0, high: 0 }],
    ['zero string', '0'],
    ['negative number', -5],
    ['not digits', '12a4'],
    ['an object without low/high', { x: 1 }],
    ['beyond 2^53 µs (year 2500)', '16725225600000000999'],
  ];
  for (const [name, v] of invalid) t.is(nanosToMicros(v as never), null, name);
});

test('int64Value keeps exact integers and falls back to decimal text beyond 2^53', (t) => {
  t.is(int64Value(long(-42n)), -42);
  t.is(int64Value('9007199254740993'), '9007199254740993');
  t.is(int64Value(long(9007199254740993n)), '9007199254740993');
  t.is(int64Value(long(-9223372036854775808n)), '-9223372036854775808');
  t.is(int64Value('12'), 12);
  t.is(int64Value('1e3'), null);
});

test('parseId: bytes and hex, absent vs malformed vs all zeros', (t) => {
  const table: [string, unknown, 16 | 8, string | null][] = [
    ['16 bytes', Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'), 16, '0af7651916cd43dd8448eb211c80319c'],
    ['hex upper case → lower', '0AF7651916CD43DD8448EB211C80319C', 16, '0af7651916cd43dd8448eb211c80319c'],
    ['8 bytes', Buffer.from('b7ad6b7169203331', 'hex'), 8, 'b7ad6b7169203331'],
    ['absent (null)', null, 8, ''],
    ['absent (empty bytes)', new Uint8Array(0), 8, ''],
    ['absent (empty string)', '', 16, ''],
    ['wrong length bytes', Buffer.from('abcd', 'hex'), 8, null],
    ['wrong length hex', 'abc', 8, null],
    ['not hex', 'zzzzzzzzzzzzzzzz', 8, null],
    ['all-zero bytes', new Uint8Array(16), 16, null],
    ['all-zero hex', '0000000000000000', 8, null],
    ['a number', 12, 8, null],
  ];
  for (const [name, v, size, expected] of table) t.is(parseId(v as never, size), expected, name);
});

test('attribute values: every AnyValue arm, bounds, duplicate keys, __proto__, secrets', (t) => {
  const limits = { ...DEFAULT_SPAN_LIMITS, maxAttributes: 12, maxValueChars: 8, maxArrayValues: 2 };
  const out = attributes(
    [
      { key: 's', value: { stringValue: 'short' } },
      { key: 'long', value: { stringValue: 'x'.repeat(20) } },
      { key: 'b', value: { boolValue: false } },
      { key: 'i', value: { intValue: long(7n) } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'arr', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'a' }, { boolValue: true }] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'k', value: { intValue: 1 } }] } } },
      { key: 'bytes', value: { bytesValue: new Uint8Array([0xde, 0xad]) } },
      { key: 'b64', value: { bytesValue: Buffer.from([0xbe, 0xef]).toString('base64') } },
      { key: 's', value: { stringValue: 'later wins' } },
      { key: '__proto__', value: { stringValue: 'plain key' } },
      { key: 'http.request.header.authorization', value: { stringValue: 'Bearer abc' } },
      { key: 'over.the.limit', value: { stringValue: 'dropped' } },
      { key: '', value: { stringValue: 'no key' } },
      { key: 'empty' },
    ],
    limits,
  );
  t.deepEqual(Object.getPrototypeOf(out), Object.prototype, 'the prototype is untouched');
  t.is(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'plain ke…[truncated]', '__proto__ is a plain key');
  const { ['__proto__']: _ignored, ...rest } = JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
  t.deepEqual(rest, {
    s: 'later wi…[truncated]',
    long: 'xxxxxxxx…[truncated]',
    b: false,
    i: 7,
    d: 1.5,
    nan: 'NaN',
    arr: [1, 'a'],
    kv: '{"k":1}',
    bytes: 'dead',
    b64: 'beef',
    'http.request.header.authorization': '[REDACTED]',
  });
});

test('isSecretKey: credentials by last key segment, not look-alikes', (t) => {
  const secret = [
    'http.request.header.authorization',
    'http.request.header.cookie',
    'http.response.header.set-cookie',
    'api_key',
    'db.password',
    'oauth.access_token',
    'x-api-key',
  ];
  const fine = ['gen_ai.usage.input_tokens', 'http.route', 'cookies.count', 'tokenizer', 'author'];
  for (const k of secret) t.true(isSecretKey(k), k);
  for (const k of fine) t.false(isSecretKey(k), k);
});

test('toSpans maps enums (numbers and names), resource service, tracestate, event time, links', (t) => {
  const id = (hex: string) => Buffer.from(hex, 'hex');
  const req = ExportTraceServiceRequest.decode(
    ExportTraceServiceRequest.encode(
      ExportTraceServiceRequest.fromObject({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h1' } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: id('0af7651916cd43dd8448eb211c80319c'),
                    spanId: id('b7ad6b7169203331'),
                    parentSpanId: id('0000000000000000'),
                    traceState: 'ot=th:c',
                    name: 'produce',
                    kind: 4,
                    startTimeUnixNano: '1700000000000001000',
                    endTimeUnixNano: '1700000000000009000',
                    status: { code: 2, message: 'nope' },
                    events: [{ name: 'no time' }],
                    links: [
                      { traceId: id('1af7651916cd43dd8448eb211c80319c'), spanId: id('c7ad6b7169203331') },
                      { traceId: id('00'), spanId: id('c7ad6b7169203331') },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish(),
  );
  const { spans, rejected } = toSpans(req);
  t.is(rejected, 0);
  t.deepEqual(spans[0], {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: null,
    name: 'produce',
    kind: 'producer',
    service: 'unknown_service',
    startUs: 1_700_000_000_000_001,
    endUs: 1_700_000_000_000_009,
    status: 'error',
    statusMessage: 'nope',
    attributes: {},
    resource: { 'host.name': 'h1' },
    events: [{ timeUs: 1_700_000_000_000_001, name: 'no time', attributes: {} }],
    links: [{ traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', attributes: {} }],
    traceState: 'ot=th:c',
  });
  const named = toSpans({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                kind: 'SPAN_KIND_CONSUMER' as never,
                status: { code: 'STATUS_CODE_OK' as never },
                startTimeUnixNano: '1700000000000001000',
                endTimeUnixNano: '1700000000000001000',
              },
            ],
          },
        ],
      },
    ],
  });
  t.like(named.spans[0], { kind: 'consumer', status: 'ok' });
  t.deepEqual(toSpans({ resourceSpans: [null as never, { scopeSpans: [{ spans: [7 as never] }] }] }), {
    spans: [],
    rejected: 1,
    errorMessage: 'rejected 1 span(s): 1× span is not a message (first at resource_spans[1].scope_spans[0].spans[0])',
  });
});
