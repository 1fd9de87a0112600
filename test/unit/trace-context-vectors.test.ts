// Runs every case of the shared vector file (test/vectors/trace-context.json) against the
// TypeScript codec; the AssemblyScript codec is held to the same file in test/wasm/.
import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  extract,
  headersFromPairs,
  inject,
  REASONS,
  TRACE_FORMATS,
  type TraceContext,
  type TraceFormat,
  translate,
} from '../../core/trace-context/index.ts';

type Pairs = [string, string][];
interface ExtractCase {
  name: string;
  formats?: TraceFormat[];
  headers: Pairs;
  expect:
    | {
        valid: true;
        format: TraceFormat;
        traceId: string;
        spanId: string;
        sampled: boolean | null;
        debug: boolean;
        random: boolean;
        tracestate: string;
        baggage: Pairs;
        reasons: string[];
      }
    | { valid: false; reasons: string[] };
}
interface InjectCase {
  name: string;
  context: TraceContext;
  formats: TraceFormat[];
  headers: Pairs;
}
interface TranslateCase {
  name: string;
  headers: Pairs;
  spanId: string;
  formats: TraceFormat[];
  headers_out: Pairs | null;
}
interface Vectors {
  version: number;
  extract: ExtractCase[];
  inject: InjectCase[];
  translate: TranslateCase[];
}

const vectors = JSON.parse(readFileSync(new URL('../vectors/trace-context.json', import.meta.url), 'utf8')) as Vectors;

// Header sets compare as sets (order irrelevant, per the README).
const sorted = (pairs: Pairs): Pairs => [...pairs].sort((a, b) => (a[0] + '\0' + a[1] < b[0] + '\0' + b[1] ? -1 : 1));

for (const c of vectors.extract) {
  test(`extract: ${c.name}`, (t) => {
    const result = extract(headersFromPairs(c.headers), c.formats);
    if (!c.expect.valid) {
      t.deepEqual({ valid: result.valid, reasons: result.reasons }, c.expect, c.name);
      return;
    }
    t.true(result.valid, `${c.name}: expected a valid context, reasons ${JSON.stringify(result.reasons)}`);
    if (!result.valid) return;
    const { context } = result;
    t.deepEqual(
      {
        valid: true,
        format: result.format,
        traceId: context.traceId,
        spanId: context.spanId,
        sampled: context.sampled,
        debug: context.debug,
        random: context.random,
        tracestate: context.tracestate,
        baggage: context.baggage,
        reasons: result.reasons,
      },
      c.expect,
      c.name,
    );
  });
}

for (const c of vectors.inject) {
  test(`inject: ${c.name}`, (t) => {
    const seen: Pairs = [];
    const returned = inject(c.context, c.formats, (name, value) => seen.push([name, value]));
    t.deepEqual(sorted(returned), sorted(c.headers), c.name);
    t.deepEqual(seen, returned, `${c.name}: the setter sees exactly the returned headers`);
  });
}

for (const c of vectors.translate) {
  test(`translate: ${c.name}`, (t) => {
    const { headers } = translate(headersFromPairs(c.headers), { formats: c.formats, spanId: c.spanId });
    t.deepEqual(
      headers === null ? null : sorted(headers),
      c.headers_out === null ? null : sorted(c.headers_out),
      c.name,
    );
  });
}

test('vector file: at least 60 cases, unique names', (t) => {
  const names = [...vectors.extract, ...vectors.inject, ...vectors.translate].map((c) => c.name);
  t.true(names.length >= 60, `only ${names.length} cases`);
  t.is(new Set(names).size, names.length, 'case names must be unique (they are the assertion messages)');
  t.is(vectors.version, 1);
});

test('vector file: every format is covered valid and invalid, in and out', (t) => {
  for (const format of TRACE_FORMATS) {
    t.true(
      vectors.extract.some((c) => c.expect.valid && c.expect.format === format),
      `no valid extract case for ${format}`,
    );
    t.true(
      vectors.inject.some((c) => c.formats.includes(format)),
      `no inject case for ${format}`,
    );
    t.true(
      vectors.translate.some((c) => c.formats.includes(format)),
      `no translate case writing ${format}`,
    );
  }
  const invalidPrefixes = ['traceparent_', 'tracestate_', 'baggage_', 'b3_', 'b3multi_', 'jaeger_'];
  for (const prefix of invalidPrefixes) {
    t.true(
      vectors.extract.some((c) => c.expect.reasons.some((r) => r.startsWith(prefix))),
      `no invalid case for ${prefix}*`,
    );
  }
  t.true(
    vectors.translate.some((c) => c.headers_out === null),
    'no translate case for invalid input',
  );
});

test('vector file: every reason code appears, and only known codes', (t) => {
  const used = new Set(vectors.extract.flatMap((c) => c.expect.reasons));
  for (const reason of REASONS) t.true(used.has(reason), `reason ${reason} is never expected`);
  for (const reason of used) t.true((REASONS as readonly string[]).includes(reason), `unknown reason ${reason}`);
});
