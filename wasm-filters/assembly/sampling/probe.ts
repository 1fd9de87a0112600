// A separate small module exposing the AS sampler to tests (not loaded by Envoy), in the shape
// of codec-probe.ts: write UTF-8 JSON at alloc(), call run(op, ptr, len), read JSON at output().
// Ops: 1 decide (config + cases through trust, head and final), 2 hash (SHA-256 / HMAC of hex
// inputs), 3 regex (compile + test), 4 config (the error text, or "").
import '../abi/abort';
import { HeaderPairs } from '../abi/headers';
import { JsonKind, JsonValue } from '../json/value';
import { quote } from '../json/writer';
import { answer } from '../probe-io';
import { readSamplingConfig } from './config';
import { compileRegex } from './regex';
import { Decision, DROPPED_BY, Inbound, KEPT_BY, Outcome, Sampler, SamplingRequest } from './sampler';
import { hmacSha256, sha256 } from './sha256';

export { alloc, output } from '../probe-io';

export function run(op: i32, ptr: usize, len: usize): i32 {
  return answer(op, ptr, len, (op: i32, input: JsonValue): string => {
    if (op == 1) return decide(input);
    if (op == 2) return hash(input);
    if (op == 3) return regex(input);
    if (op == 4) return `{"error":${quote(readSamplingConfig(input.get('config'), 'sampling').error)}}`;
    return `{"error":"unknown op"}`;
  });
}

function str(v: JsonValue | null): string {
  return v === null || v.kind != JsonKind.String ? '' : v.str;
}

function num(v: JsonValue | null, def: f64): f64 {
  return v === null || v.kind != JsonKind.Number ? def : v.num;
}

function flag(v: JsonValue | null): bool {
  return v !== null && v.kind == JsonKind.Bool && v.bool;
}

function decision(d: Decision): string {
  return (
    `{"sampled":${d.sampled},"keptBy":${d.keptBy < 0 ? 'null' : quote(KEPT_BY[d.keptBy])},` +
    `"droppedBy":${d.droppedBy < 0 ? 'null' : quote(DROPPED_BY[d.droppedBy])},"tracestate":${quote(d.tracestate)}}`
  );
}

function decide(input: JsonValue): string {
  const cfg = readSamplingConfig(input.get('config'), 'sampling');
  if (cfg.config === null) return `{"error":${quote(cfg.error)}}`;
  const sampler = new Sampler(cfg.config!);
  const cases = input.get('cases');
  const results: string[] = [];
  for (let i = 0; cases !== null && i < cases.items.length; i++) {
    const c = cases.items[i];
    const req = new SamplingRequest();
    req.method = str(c.get('method'));
    req.path = str(c.get('path'));
    req.authority = str(c.get('authority'));
    req.traceId = str(c.get('traceId'));
    req.route = str(c.get('route'));
    req.service = str(c.get('service'));
    req.nowMs = num(c.get('nowMs'), 0);
    const hs = c.get('headers');
    const pairs = new HeaderPairs();
    for (let j = 0; hs !== null && j < hs.items.length; j++)
      pairs.push(str(hs.items[j].items[0]), str(hs.items[j].items[1]));
    req.headers = pairs;
    const inbound = c.get('inbound');
    const ctx = new Inbound();
    let valid = false;
    if (inbound !== null && inbound.kind == JsonKind.Object) {
      valid = flag(inbound.get('valid'));
      const s = inbound.get('sampled');
      ctx.sampled = s === null || s.kind != JsonKind.Bool ? -1 : s.bool ? 1 : 0;
      ctx.debug = flag(inbound.get('debug'));
      ctx.random = flag(inbound.get('random'));
      ctx.tracestate = str(inbound.get('tracestate'));
    }
    const trust = sampler.assessTrust(valid, ctx, req);
    req.trusted = trust.trusted;
    req.parent = trust.honoured;
    req.tokenSubject = trust.tokenSubject;
    const head = sampler.head(req);
    const o = c.get('outcome');
    const outcome = new Outcome();
    if (o !== null) {
      outcome.status = <i32>num(o.get('status'), 0);
      outcome.grpcStatus = <i32>num(o.get('grpcStatus'), -1);
      outcome.reset = flag(o.get('reset'));
      outcome.durationMs = num(o.get('durationMs'), 0);
    }
    const fin = sampler.final(req, head, outcome);
    const subject = trust.tokenSubject;
    results.push(
      `{"trusted":${trust.trusted},"attach":${quote(['none', 'parent', 'link'][trust.attach])},` +
        `"tokenRejected":${trust.tokenRejected.length == 0 ? 'null' : quote(trust.tokenRejected)},` +
        `"subject":${subject === null ? 'null' : quote(subject)},"head":${decision(head)},"final":${decision(fin)}}`,
    );
  }
  return `{"results":[${results.join(',')}]}`;
}

function hexBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = <u8>U32.parseInt(s.substr(2 * i, 2), 16);
  return out;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (<u32>b[i]).toString(16).padStart(2, '0');
  return s;
}

function hash(input: JsonValue): string {
  const msg = hexBytes(str(input.get('msg')));
  const key = input.get('key');
  return `{"hex":${quote(hex(key === null ? sha256(msg) : hmacSha256(hexBytes(str(key)), msg)))}}`;
}

function regex(input: JsonValue): string {
  const r = compileRegex(str(input.get('pattern')));
  const re = r.regex;
  if (re === null) return `{"error":${quote(r.error)}}`;
  const inputs = input.get('inputs');
  const out: string[] = [];
  for (let i = 0; inputs !== null && i < inputs.items.length; i++)
    out.push(re.test(str(inputs.items[i])) ? 'true' : 'false');
  return `{"results":[${out.join(',')}]}`;
}
