// A separate small module exposing the AS trace-context codec to tests (it is not loaded by
// Envoy). The test writes a vector case as UTF-8 JSON into memory from alloc(), calls run(op)
// and reads the JSON answer at output() (length = run's result). Ops: 1 extract, 2 inject,
// 3 translate — shapes as in test/vectors/README.md.
import './abi/abort';
import { HeaderPairs } from './abi/headers';
import { JsonKind, JsonValue } from './json/value';
import { quote } from './json/writer';
import { answer } from './probe-io';
import { Sampled, TraceContext } from './trace-context/context';
import { extract } from './trace-context/extract';
import { defaultInboundFormats, formatFromName } from './trace-context/formats';
import { inject } from './trace-context/inject';

export { alloc, output } from './probe-io';

export function run(op: i32, ptr: usize, len: usize): i32 {
  return answer(op, ptr, len, (op: i32, input: JsonValue): string => {
    if (op == 1) return runExtract(input);
    if (op == 2) return runInject(input);
    if (op == 3) return runTranslate(input);
    return `{"error":"unknown op"}`;
  });
}

function str(v: JsonValue | null): string {
  return v === null || v.kind != JsonKind.String ? '' : v.str;
}

function pairs(v: JsonValue | null): HeaderPairs {
  const out = new HeaderPairs();
  if (v === null) return out;
  for (let i = 0; i < v.items.length; i++) out.push(str(v.items[i].items[0]), str(v.items[i].items[1]));
  return out;
}

/** Format ids, or null with an unknown name. */
function formats(v: JsonValue | null): i32[] | null {
  if (v === null) return defaultInboundFormats();
  const out: i32[] = [];
  for (let i = 0; i < v.items.length; i++) {
    const f = formatFromName(str(v.items[i]));
    if (f < 0) return null;
    out.push(f);
  }
  return out;
}

function writePairs(p: HeaderPairs): string {
  const parts: string[] = [];
  for (let i = 0; i < p.length; i++) parts.push(`[${quote(p.name(i))},${quote(p.value(i))}]`);
  return `[${parts.join(',')}]`;
}

function writeStrings(list: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < list.length; i++) parts.push(quote(list[i]));
  return `[${parts.join(',')}]`;
}

function sampledJson(s: Sampled): string {
  return s == Sampled.Yes ? 'true' : s == Sampled.No ? 'false' : 'null';
}

function runExtract(input: JsonValue): string {
  const f = formats(input.get('formats'));
  if (f === null) return `{"error":"unknown format"}`;
  const r = extract(pairs(input.get('headers')), f as i32[]);
  const c = r.context;
  const baggage = new HeaderPairs();
  baggage.names = c.baggageKeys;
  baggage.values = c.baggageValues;
  return (
    `{"valid":${r.valid},"format":${quote(r.format)},"traceId":${quote(c.traceId)},"spanId":${quote(c.spanId)},` +
    `"sampled":${sampledJson(c.sampled)},"debug":${c.debug},"random":${c.random},"tracestate":${quote(c.tracestate)},` +
    `"baggage":${writePairs(baggage)},"reasons":${writeStrings(r.reasons)}}`
  );
}

function contextFrom(v: JsonValue | null): TraceContext {
  const c = new TraceContext();
  if (v === null) return c;
  c.traceId = str(v.get('traceId'));
  c.spanId = str(v.get('spanId'));
  const s = v.get('sampled');
  c.sampled = s === null || s.kind != JsonKind.Bool ? Sampled.Unset : s.bool ? Sampled.Yes : Sampled.No;
  const d = v.get('debug');
  c.debug = d !== null && d.bool;
  const r = v.get('random');
  c.random = r !== null && r.bool;
  c.tracestate = str(v.get('tracestate'));
  const b = pairs(v.get('baggage'));
  c.baggageKeys = b.names;
  c.baggageValues = b.values;
  return c;
}

function runInject(input: JsonValue): string {
  const f = formats(input.get('formats'));
  if (f === null) return `{"error":"unknown format"}`;
  return `{"headers":${writePairs(inject(contextFrom(input.get('context')), f as i32[]))}}`;
}

function runTranslate(input: JsonValue): string {
  const f = formats(input.get('formats'));
  if (f === null) return `{"error":"unknown format"}`;
  const r = extract(pairs(input.get('headers')), defaultInboundFormats());
  if (!r.valid) return `{"headers_out":null}`;
  return `{"headers_out":${writePairs(inject(r.context.withSpanId(str(input.get('spanId'))), f as i32[]))}}`;
}
