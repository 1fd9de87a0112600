// The `sampling` section of the plugin JSON, read the way core/sampling/schema.ts validates and
// normalises it (same fields, defaults and ranges; README there documents each). The first
// problem is reported as `sampling.<path>: <what>` in the TS core's wording, e.g.
//   sampling.rules[0].rate: must be ≤ 1
//   sampling.rules[1].action: must be one of always, never, rate
//   sampling.rules[0].match.path_regex: invalid regular expression (unsupported construct "(" at 0 …)
import { asciiLower, asciiUpper } from './ascii';
import { JsonKind, JsonValue } from '../json/value';
import { compileRegex, Regex } from './regex';

export class RuleConfig {
  name: string = '';
  /** Upper-case methods; empty = any. */
  methods: string[] = [];
  pathPrefix: string | null = null;
  pathRegex: Regex | null = null;
  authority: string | null = null;
  headerNames: string[] = [];
  headerValues: string[] = [];
  /** 0 always, 1 never, 2 rate */
  action: i32 = 0;
  rate: f64 = 0;
}

export const ACTION_ALWAYS: i32 = 0;
export const ACTION_NEVER: i32 = 1;
export const ACTION_RATE: i32 = 2;

export class LatencyRoute {
  pathPrefix: string | null = null;
  route: string | null = null;
  thresholdMs: f64 = 0;
}

export class SamplingConfig {
  /** False when the plugin JSON has no `sampling` section (propagation-only: see filter/config.ts). */
  enabled: bool = true;
  probability: f64 = 1;
  precision: i32 = 4;
  errorEnabled: bool = true;
  httpStatusMin: i32 = 500;
  errorGrpc: bool = true;
  errorReset: bool = true;
  /** < 0 = off */
  latencyThresholdMs: f64 = -1;
  latencyRoutes: LatencyRoute[] = [];
  debugHeader: string | null = 'x-meshtrace-debug';
  debugUserHeader: string | null = null;
  debugJwtClaim: string | null = null;
  debugJwtHeader: string = 'authorization';
  debugUsers: string[] = [];
  debugOpMethods: string[] = [];
  debugOpPrefixes: string[] = [];
  rules: RuleConfig[] = [];
  /** cost cap; perSecond ≤ 0 = no cap */
  capPerSecond: f64 = 0;
  capBurst: f64 = 0;
  capPerService: bool = false;
  capMaxKeys: i32 = 1024;
  trustInternal: bool = false;
  inboundLink: bool = false;
  /** null = debug tokens not configured */
  tokenHeader: string | null = null;
  tokenKeyIds: string[] = [];
  tokenSecrets: string[] = [];
  tokenMaxTtlS: f64 = 3600;

  /** True when a decision uses the route name (per-route latency or a per-route cost cap). */
  needsRouteName(): bool {
    if (this.capPerSecond > 0 && !this.capPerService) return true;
    for (let i = 0; i < this.latencyRoutes.length; i++) if (this.latencyRoutes[i].route !== null) return true;
    return false;
  }

  describe(): string {
    return (
      `sampling=p${fraction(this.probability)}/${this.trustInternal ? 'internal' : 'edge'}` +
      ` rules=${this.rules.length}` +
      (this.latencyThresholdMs >= 0 ? ` latency>=${fraction(this.latencyThresholdMs)}ms` : '') +
      (this.capPerSecond > 0 ? ` cap=${fraction(this.capPerSecond)}/s` : '')
    );
  }
}

export class SamplingConfigResult {
  config: SamplingConfig | null = null;
  error: string = '';
}

class R {
  error: string = '';
  fail(path: string, what: string): void {
    if (this.error.length == 0) this.error = `${path}: ${what}`;
  }
  ok(): bool {
    return this.error.length == 0;
  }
  object(v: JsonValue | null, path: string, allowed: string[]): bool {
    if (v === null || !this.ok()) return false;
    if (v.kind != JsonKind.Object) {
      this.fail(path, 'must be object');
      return false;
    }
    for (let i = 0; i < v.keys.length; i++) {
      if (!allowed.includes(v.keys[i])) {
        this.fail(`${path}.${v.keys[i]}`, 'unknown field');
        return false;
      }
    }
    return true;
  }
  num(v: JsonValue | null, path: string, lo: f64, hi: f64, def: f64): f64 {
    if (v === null || !this.ok()) return def;
    if (v.kind != JsonKind.Number) {
      this.fail(path, 'must be number');
      return def;
    }
    if (v.num < lo) this.fail(path, `must be ≥ ${fmt(lo)}`);
    else if (v.num > hi) this.fail(path, `must be ≤ ${fmt(hi)}`);
    return v.num;
  }
  int(v: JsonValue | null, path: string, lo: f64, hi: f64, def: i32): i32 {
    if (v !== null && this.ok() && v.kind == JsonKind.Number && v.num != Math.floor(v.num)) {
      this.fail(path, 'must be integer');
      return def;
    }
    return <i32>this.num(v, path, lo, hi, <f64>def);
  }
  bool(v: JsonValue | null, path: string, def: bool): bool {
    if (v === null || !this.ok()) return def;
    if (v.kind != JsonKind.Bool) {
      this.fail(path, 'must be boolean');
      return def;
    }
    return v.bool;
  }
  str(v: JsonValue | null, path: string, minLen: i32, maxLen: i32): string | null {
    if (v === null || !this.ok()) return null;
    if (v.kind != JsonKind.String) {
      this.fail(path, 'must be string');
      return null;
    }
    if (v.str.length < minLen) this.fail(path, `must NOT have fewer than ${minLen} characters`);
    else if (v.str.length > maxLen) this.fail(path, `must NOT have more than ${maxLen} characters`);
    return v.str;
  }
  /** A string or null (explicit null kept as null); `def` when absent. */
  strOrNull(v: JsonValue | null, path: string, def: string | null): string | null {
    if (v === null) return def;
    if (v.kind == JsonKind.Null) return null;
    return this.str(v, path, 1, 1024);
  }
  header(v: JsonValue | null, path: string, def: string | null): string | null {
    const s = this.strOrNull(v, path, def);
    if (s === null || !this.ok()) return s;
    if (!isToken(s) || s.length > 128) {
      this.fail(path, 'must match pattern "^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$"');
      return s;
    }
    return asciiLower(s);
  }
  oneOf(v: JsonValue | null, path: string, allowed: string[], def: i32): i32 {
    if (v === null || !this.ok()) return def;
    const i = v.kind == JsonKind.String ? allowed.indexOf(v.str) : -1;
    if (i < 0) this.fail(path, `must be one of ${allowed.join(', ')}`);
    return i < 0 ? def : i;
  }
  array(v: JsonValue | null, path: string, maxItems: i32): JsonValue[] {
    if (v === null || !this.ok()) return [];
    if (v.kind != JsonKind.Array) {
      this.fail(path, 'must be array');
      return [];
    }
    if (v.items.length > maxItems) this.fail(path, `must NOT have more than ${maxItems} items`);
    return v.items;
  }
}

/** Range limits are integers: printed without a float formatter (dtoa is ~5 KB of Wasm). */
function fmt(n: f64): string {
  return (<i64>n).toString();
}

/** p as a decimal with up to 6 places, without dtoa (for the log line only). */
function fraction(p: f64): string {
  const micro = <i64>Math.round(p * 1e6);
  if (micro % 1000000 == 0) return (micro / 1000000).toString();
  const frac = (micro % 1000000).toString().padStart(6, '0');
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) == 0x30) end--;
  return (micro / 1000000).toString() + '.' + frac.substring(0, end);
}

function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && !"!#$%&'*+.^_`|~-".includes(String.fromCharCode(c))) return false;
  }
  return true;
}

function isIdChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2d;
}

function isMethod(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (c < 0x61 || c > 0x7a) return false;
  }
  return true;
}

const KEYS: string[] = ['probability', 'precision', 'error', 'latency', 'debug', 'rules', 'cost_cap', 'trust'];
const ERROR_KEYS: string[] = ['enabled', 'http_status_min', 'grpc', 'reset'];
const LATENCY_KEYS: string[] = ['threshold_ms', 'routes'];
const ROUTE_KEYS: string[] = ['path_prefix', 'route', 'threshold_ms'];
const DEBUG_KEYS: string[] = ['header', 'user_header', 'jwt_claim', 'jwt_header', 'users', 'operations'];
const RULE_KEYS: string[] = ['name', 'match', 'action', 'rate'];
const MATCH_KEYS: string[] = ['method', 'path_prefix', 'path_regex', 'authority', 'headers'];
const CAP_KEYS: string[] = ['per_second', 'burst', 'per', 'max_keys'];
const TRUST_KEYS: string[] = ['boundary', 'inbound_context', 'debug_token'];
const TOKEN_KEYS: string[] = ['header', 'keys', 'max_ttl_s'];
const KEY_KEYS: string[] = ['id', 'secret'];
const ACTIONS: string[] = ['always', 'never', 'rate'];
const BIG: f64 = 1e308;

function pathPrefix(r: R, v: JsonValue | null, path: string): string | null {
  const s = r.str(v, path, 0, 1024);
  if (s !== null && r.ok() && !s.startsWith('/')) r.fail(path, 'must match pattern "^/"');
  return s;
}

export function readSamplingConfig(v: JsonValue | null, base: string): SamplingConfigResult {
  const out = new SamplingConfigResult();
  const c = new SamplingConfig();
  const r = new R();
  if (v !== null && v.kind != JsonKind.Null && r.object(v, base, KEYS)) {
    c.probability = r.num(v.get('probability'), base + '.probability', 0, 1, 1);
    c.precision = r.int(v.get('precision'), base + '.precision', 1, 14, 4);
    const err = v.get('error');
    if (r.object(err, base + '.error', ERROR_KEYS)) {
      const e = err as JsonValue;
      c.errorEnabled = r.bool(e.get('enabled'), base + '.error.enabled', true);
      c.httpStatusMin = r.int(e.get('http_status_min'), base + '.error.http_status_min', 400, 599, 500);
      c.errorGrpc = r.bool(e.get('grpc'), base + '.error.grpc', true);
      c.errorReset = r.bool(e.get('reset'), base + '.error.reset', true);
    }
    const lat = v.get('latency');
    if (r.object(lat, base + '.latency', LATENCY_KEYS)) {
      const l = lat as JsonValue;
      const t = l.get('threshold_ms');
      if (t !== null && t.kind != JsonKind.Null)
        c.latencyThresholdMs = r.num(t, base + '.latency.threshold_ms', 0, BIG, -1);
      const routes = r.array(l.get('routes'), base + '.latency.routes', 256);
      for (let i = 0; i < routes.length && r.ok(); i++) {
        const p = `${base}.latency.routes[${i}]`;
        if (!r.object(routes[i], p, ROUTE_KEYS)) break;
        const lr = new LatencyRoute();
        lr.pathPrefix = pathPrefix(r, routes[i].get('path_prefix'), p + '.path_prefix');
        lr.route = r.str(routes[i].get('route'), p + '.route', 1, 256);
        const th = routes[i].get('threshold_ms');
        if (th === null) r.fail(p + '.threshold_ms', 'is required');
        lr.thresholdMs = r.num(th, p + '.threshold_ms', 0, BIG, 0);
        c.latencyRoutes.push(lr);
      }
    }
    const dbg = v.get('debug');
    if (r.object(dbg, base + '.debug', DEBUG_KEYS)) {
      const d = dbg as JsonValue;
      c.debugHeader = r.header(d.get('header'), base + '.debug.header', 'x-meshtrace-debug');
      c.debugUserHeader = r.header(d.get('user_header'), base + '.debug.user_header', null);
      c.debugJwtClaim = r.strOrNull(d.get('jwt_claim'), base + '.debug.jwt_claim', null);
      const jh = r.header(d.get('jwt_header'), base + '.debug.jwt_header', 'authorization');
      if (jh !== null) c.debugJwtHeader = jh;
      const users = r.array(d.get('users'), base + '.debug.users', 1024);
      for (let i = 0; i < users.length && r.ok(); i++) {
        const u = r.str(users[i], `${base}.debug.users[${i}]`, 1, 256);
        if (u !== null) c.debugUsers.push(u);
      }
      const ops = r.array(d.get('operations'), base + '.debug.operations', 256);
      for (let i = 0; i < ops.length && r.ok(); i++) {
        const p = `${base}.debug.operations[${i}]`;
        const o = r.str(ops[i], p, 0, 1024);
        if (o === null) break;
        const sp = o.indexOf(' ');
        const m = sp < 0 ? '' : o.substring(0, sp);
        const upper = m == asciiUpper(m) && isMethod(m);
        if (sp < 0 || (m != '*' && !upper) || !o.substring(sp + 1).startsWith('/')) {
          r.fail(p, 'must match pattern "^(\\*|[A-Z]+) /"');
          break;
        }
        c.debugOpMethods.push(m);
        c.debugOpPrefixes.push(o.substring(sp + 1));
      }
    }
    const rules = r.array(v.get('rules'), base + '.rules', 256);
    for (let i = 0; i < rules.length && r.ok(); i++) {
      const p = `${base}.rules[${i}]`;
      if (!r.object(rules[i], p, RULE_KEYS)) break;
      const rv = rules[i];
      const rule = new RuleConfig();
      const name = r.str(rv.get('name'), p + '.name', 1, 128);
      rule.name = name === null ? `rules[${i}]` : name;
      const action = rv.get('action');
      if (action === null) r.fail(p + '.action', 'is required');
      rule.action = r.oneOf(action, p + '.action', ACTIONS, 0);
      const rate = rv.get('rate');
      if (rule.action == ACTION_RATE && rate === null) r.fail(p + '.rate', 'is required');
      rule.rate = r.num(rate, p + '.rate', 0, 1, 0);
      const m = rv.get('match');
      if (r.object(m, p + '.match', MATCH_KEYS)) readMatch(r, m as JsonValue, p + '.match', rule);
      c.rules.push(rule);
    }
    const cap = v.get('cost_cap');
    if (cap !== null && cap.kind != JsonKind.Null && r.object(cap, base + '.cost_cap', CAP_KEYS)) {
      const ps = cap.get('per_second');
      if (ps === null) r.fail(base + '.cost_cap.per_second', 'is required');
      else if (ps.kind == JsonKind.Number && ps.num <= 0) r.fail(base + '.cost_cap.per_second', 'must be > 0');
      c.capPerSecond = r.num(ps, base + '.cost_cap.per_second', 0, 1000000, 0);
      c.capBurst = r.num(cap.get('burst'), base + '.cost_cap.burst', 1, 1000000, max(1, c.capPerSecond));
      c.capPerService = r.oneOf(cap.get('per'), base + '.cost_cap.per', ['route', 'service'], 0) == 1;
      c.capMaxKeys = r.int(cap.get('max_keys'), base + '.cost_cap.max_keys', 1, 100000, 1024);
    }
    const trust = v.get('trust');
    if (r.object(trust, base + '.trust', TRUST_KEYS)) {
      const t = trust as JsonValue;
      c.trustInternal = r.oneOf(t.get('boundary'), base + '.trust.boundary', ['edge', 'internal'], 0) == 1;
      c.inboundLink = r.oneOf(t.get('inbound_context'), base + '.trust.inbound_context', ['parent', 'link'], 0) == 1;
      const tok = t.get('debug_token');
      if (tok !== null && tok.kind != JsonKind.Null && r.object(tok, base + '.trust.debug_token', TOKEN_KEYS)) {
        const p = base + '.trust.debug_token';
        c.tokenHeader = r.header(tok.get('header'), p + '.header', 'x-meshtrace-debug-token');
        c.tokenMaxTtlS = <f64>r.int(tok.get('max_ttl_s'), p + '.max_ttl_s', 1, 604800, 3600);
        const keys = tok.get('keys');
        if (keys === null) r.fail(p + '.keys', 'is required');
        const items = r.array(keys, p + '.keys', 16);
        if (keys !== null && r.ok() && items.length == 0) r.fail(p + '.keys', 'must NOT have fewer than 1 items');
        for (let i = 0; i < items.length && r.ok(); i++) {
          const kp = `${p}.keys[${i}]`;
          if (!r.object(items[i], kp, KEY_KEYS)) break;
          const id = items[i].get('id');
          const secret = items[i].get('secret');
          if (id === null) r.fail(kp + '.id', 'is required');
          if (secret === null) r.fail(kp + '.secret', 'is required');
          const ids = r.str(id, kp + '.id', 1, 32);
          const sec = r.str(secret, kp + '.secret', 16, 1024);
          if (ids === null || sec === null || !r.ok()) break;
          for (let j = 0; j < ids.length; j++) {
            if (!isIdChar(ids.charCodeAt(j))) {
              r.fail(kp + '.id', 'must match pattern "^[A-Za-z0-9_-]{1,32}$"');
              break;
            }
          }
          if (c.tokenKeyIds.includes(ids)) r.fail(kp + '.id', `duplicate key id "${ids}"`);
          c.tokenKeyIds.push(ids);
          c.tokenSecrets.push(sec);
        }
      }
    }
  }
  if (r.ok()) out.config = c;
  else out.error = r.error;
  return out;
}

function readMatch(r: R, m: JsonValue, p: string, rule: RuleConfig): void {
  const method = m.get('method');
  if (method !== null) {
    const list: JsonValue[] = method.kind == JsonKind.Array ? r.array(method, p + '.method', 16) : [method];
    for (let i = 0; i < list.length && r.ok(); i++) {
      const s = r.str(list[i], p + '.method', 1, 64);
      if (s !== null && !isMethod(s)) r.fail(p + '.method', 'must match pattern "^[A-Za-z]+$"');
      else if (s !== null) rule.methods.push(asciiUpper(s));
    }
  }
  rule.pathPrefix = pathPrefix(r, m.get('path_prefix'), p + '.path_prefix');
  const re = r.str(m.get('path_regex'), p + '.path_regex', 1, 1024);
  if (re !== null && r.ok()) {
    const compiled = compileRegex(re);
    if (compiled.regex === null) r.fail(p + '.path_regex', `invalid regular expression (${compiled.error})`);
    rule.pathRegex = compiled.regex;
  }
  const a = r.str(m.get('authority'), p + '.authority', 1, 256);
  if (a !== null) rule.authority = asciiLower(a);
  const h = m.get('headers');
  if (h !== null && r.ok()) {
    if (h.kind != JsonKind.Object) r.fail(p + '.headers', 'must be object');
    else if (h.keys.length > 16) r.fail(p + '.headers', 'must NOT have more than 16 properties');
    for (let i = 0; r.ok() && h.kind == JsonKind.Object && i < h.keys.length; i++) {
      const name = h.keys[i];
      if (!isToken(name) || name.length > 128) {
        r.fail(`${p}.headers`, `property name "${name}" is not a header name`);
        break;
      }
      const val = r.str(h.items[i], `${p}.headers.${name}`, 0, 1024);
      if (val === null) break;
      rule.headerNames.push(asciiLower(name));
      rule.headerValues.push(val);
    }
  }
}
