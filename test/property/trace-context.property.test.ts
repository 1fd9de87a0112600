// Property tests of the TypeScript trace-context codec: round trips through every format,
// arbitrary bytes never throw, and every output stays within the spec limits.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import {
  extract,
  headersFromPairs,
  inject,
  isValidSpanId,
  isValidTraceId,
  parseTracestate,
  REASONS,
  TRACE_FORMATS,
  TRACE_HEADER_NAMES,
  type TraceContext,
} from '../../core/trace-context/index.ts';

const RUNS = { numRuns: 300 };

/** Runs the property; a counterexample fails the test with fast-check's report (shrunk, with seed). */
function holds<T>(t: ExecutionContext, property: fc.IProperty<T>, params: fc.Parameters<T>): void {
  const details = fc.check(property, params);
  const report = fc.defaultReportMessage(details) ?? '';
  // Counterexamples can be 9 KB strings: keep the failure message readable.
  t.false(details.failed, report.length > 2000 ? `${report.slice(0, 2000)}…` : report);
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const nonZeroHex = (n: number) =>
  fc
    .uint8Array({ minLength: n, maxLength: n })
    .filter((b) => b.some((x) => x !== 0))
    .map(hex);

const tracestateArb = fc
  .uniqueArray(
    fc.tuple(
      fc.stringMatching(/^[a-z][a-z0-9_*/-]{0,12}$/),
      fc.stringMatching(/^[\x21-\x2b\x2d-\x3c\x3e-\x7e]{1,24}$/),
    ),
    { maxLength: 8, selector: ([k]) => k },
  )
  .map((members) => members.map(([k, v]) => `${k}=${v}`).join(','));

// Lower-case keys: Jaeger carries the key in a header name, which is case-insensitive.
const baggageArb = fc.array(
  fc.tuple(fc.stringMatching(/^[a-z0-9!#$&'*+.^_`|~-]{1,12}$/), fc.string({ unit: 'grapheme', maxLength: 16 })),
  { maxLength: 8 },
);

const contextArb: fc.Arbitrary<TraceContext> = fc.record({
  traceId: nonZeroHex(16),
  spanId: nonZeroHex(8),
  sampled: fc.constantFrom(true, false, null),
  debug: fc.boolean(),
  random: fc.boolean(),
  tracestate: tracestateArb,
  baggage: baggageArb,
});

for (const format of TRACE_FORMATS) {
  test(`round trip: inject → extract through ${format} keeps ids, sampled and debug`, (t) => {
    holds(
      t,
      fc.property(contextArb, (ctx) => {
        const result = extract(headersFromPairs(inject(ctx, [format])), [format]);
        if (!result.valid) return false;
        const back = result.context;
        const decided = ctx.debug ? true : ctx.sampled;
        const expected = {
          format,
          traceId: ctx.traceId,
          spanId: ctx.spanId,
          // W3C and Jaeger have no "deferred": undecided goes out as not sampled.
          sampled: format === 'w3c' || format === 'jaeger' ? decided === true : decided,
          // traceparent has no debug bit; debug is sent as sampled.
          debug: format === 'w3c' ? false : ctx.debug,
          random: format === 'w3c' ? ctx.random : false,
          tracestate: format === 'w3c' ? ctx.tracestate : '',
          baggage: format === 'w3c' || format === 'jaeger' ? ctx.baggage : [],
        };
        const actual = {
          format: result.format,
          traceId: back.traceId,
          spanId: back.spanId,
          sampled: back.sampled,
          debug: back.debug,
          random: back.random,
          tracestate: back.tracestate,
          baggage: back.baggage,
        };
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
        }
        return result.reasons.length === 0;
      }),
      RUNS,
    );
  });
}

// Header values as a proxy sees them: arbitrary bytes read as latin1 (what Node gives), and
// near-miss values built from the alphabet the grammars use.
const bytesValue = fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('latin1'));
const nearMiss = fc.stringMatching(/^[0-9a-fA-F\-:;,=%@ \t]{0,80}$/);
const nameArb = fc.constantFrom(...TRACE_HEADER_NAMES, 'uberctx-k', 'Uberctx-X Y', 'TraceParent', 'X-B3-TraceId');
const headersArb = fc.array(fc.tuple(nameArb, fc.oneof(bytesValue, nearMiss)), { maxLength: 8 });

test('arbitrary header bytes never throw; results are valid contexts or known reasons', (t) => {
  const known = new Set<string>(REASONS);
  holds(
    t,
    fc.property(headersArb, (headers) => {
      const result = extract(headersFromPairs(headers));
      if (!result.reasons.every((r) => known.has(r))) return false;
      if (!result.valid) return result.baggage.length <= 64;
      const c = result.context;
      return (
        isValidTraceId(c.traceId) &&
        isValidSpanId(c.spanId) &&
        (c.sampled === null || typeof c.sampled === 'boolean') &&
        (!c.debug || c.sampled === true) &&
        Buffer.byteLength(c.tracestate) <= 8192 &&
        c.baggage.length <= 64
      );
    }),
    { numRuns: 1000 },
  );
});

test('extracted tracestate is already normalised (parsing it again changes nothing)', (t) => {
  const tsHeaders = fc.array(fc.oneof(tracestateArb, nearMiss), { minLength: 1, maxLength: 3 });
  holds(
    t,
    fc.property(tsHeaders, (values) => {
      const result = extract(
        headersFromPairs([
          ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
          ...values.map((v): [string, string] => ['tracestate', v]),
        ]),
      );
      if (!result.valid) return false;
      const again = parseTracestate(result.context.tracestate);
      return again.ok && again.value === result.context.tracestate;
    }),
    RUNS,
  );
});

// Oversized and hostile contexts: arbitrary strings in tracestate, many big baggage entries.
const hostileContext: fc.Arbitrary<TraceContext> = fc.record({
  traceId: fc.oneof(nonZeroHex(16), nonZeroHex(8), fc.string({ maxLength: 40 })),
  spanId: fc.oneof(nonZeroHex(8), fc.string({ maxLength: 20 })),
  sampled: fc.constantFrom(true, false, null),
  debug: fc.boolean(),
  random: fc.boolean(),
  tracestate: fc.oneof(tracestateArb, fc.string({ maxLength: 200 }), fc.constant(`a=${'x'.repeat(9000)}`)),
  baggage: fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 600 })), {
    maxLength: 100,
  }),
});

test('inject output is bounded: 55-char traceparent, ≤ 8192-byte values, ≤ 64 baggage entries', (t) => {
  holds(
    t,
    fc.property(hostileContext, (ctx) => {
      const out = inject(ctx, TRACE_FORMATS);
      // inject widens only 64-bit (16 hex) trace ids; anything else must be a valid 128-bit id.
      const traceId = ctx.traceId.length === 16 ? ctx.traceId.padStart(32, '0') : ctx.traceId;
      if (out.length === 0) return !(isValidTraceId(traceId) && isValidSpanId(ctx.spanId));
      const value = (name: string) => out.find(([n]) => n === name)?.[1];
      const uberctx = out.filter(([n]) => n.startsWith('uberctx-'));
      const uberctxBytes = uberctx.reduce((sum, [n, v]) => sum + n.length - 8 + 1 + v.length, 0) + uberctx.length - 1;
      return (
        value('traceparent')?.length === 55 &&
        out.every(([name, v]) => name === name.toLowerCase() && Buffer.byteLength(v) <= 8192) &&
        (value('baggage')?.split(',').length ?? 0) <= 64 &&
        uberctx.length <= 64 &&
        uberctxBytes <= 8192 &&
        (value('tracestate') === undefined || parseTracestate(value('tracestate')!).ok)
      );
    }),
    { numRuns: 200 },
  );
});
