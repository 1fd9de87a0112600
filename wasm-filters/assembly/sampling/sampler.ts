// The AS mirror of core/sampling/edge-sampler.ts (+ trust.ts, debug.ts, rules.ts, parent.ts,
// probability.ts, response.ts, cost-cap.ts): the same decisions for the same inputs — a test
// runs both over shared cases (test/wasm/sampling-parity.test.ts). Head strategies in order:
//
//   trust boundary → debug (trusted only) → rules (first match) → parent → probability
//                                   │
//                        cost cap on every head keep but debug
//
// final(): a head keep stays; a head drop is kept on error, else on latency (one cap token).
import { asciiLower, asciiUpper } from './ascii';
import { HeaderPairs } from '../abi/headers';
import { JsonKind } from '../json/value';
import { JsonReader } from '../json/reader';
import { ACTION_ALWAYS, ACTION_RATE, RuleConfig, SamplingConfig } from './config';
import { verifyDebugToken, TOKEN_VALID } from './debug-token';
import { base64urlDecode } from './sha256';
import {
  encodeThreshold,
  keeps,
  NEVER,
  probabilityToThreshold,
  randomnessOf,
  readOt,
  withoutOt,
  writeOtThreshold,
} from './threshold';

export const ATTACH_NONE: i32 = 0;
export const ATTACH_PARENT: i32 = 1;
export const ATTACH_LINK: i32 = 2;

/** The inbound context samplers may honour. sampled: -1 none, 0 no, 1 yes. */
export class Inbound {
  sampled: i32 = -1;
  debug: bool = false;
  random: bool = false;
  tracestate: string = '';
}

export class TrustVerdict {
  trusted: bool = false;
  attach: i32 = ATTACH_NONE;
  honoured: Inbound | null = null;
  /** Subject of a valid token, null when none. */
  tokenSubject: string | null = null;
  /** Why a present token was refused ("" when none refused). */
  tokenRejected: string = '';
}

// The headers of a request built without any (never pushed to: callers assign their own).
const NO_HEADERS = new HeaderPairs();

export class SamplingRequest {
  headers: HeaderPairs = NO_HEADERS;
  // method / path (query removed) / authority: set by the caller, or else read from `headers`
  // (:method, :path, :authority) the first time a strategy asks — most configurations never
  // do, and decoding them cost three strings per request.
  private _method: string | null = null;
  private _path: string | null = null;
  private _authority: string | null = null;
  traceId: string = '';
  parent: Inbound | null = null;
  trusted: bool = false;
  tokenSubject: string | null = null;
  route: string = '';
  service: string = '';
  nowMs: f64 = 0;

  get method(): string {
    let v = this._method;
    if (v === null) this._method = v = this.headerOrEmpty(':method');
    return v;
  }
  set method(v: string) {
    this._method = v;
  }

  get path(): string {
    let v = this._path;
    if (v === null) {
      v = this.headerOrEmpty(':path');
      const q = v.indexOf('?');
      if (q >= 0) v = v.substring(0, q);
      this._path = v;
    }
    return v;
  }
  set path(v: string) {
    this._path = v;
  }

  get authority(): string {
    let v = this._authority;
    if (v === null) this._authority = v = this.headerOrEmpty(':authority');
    return v;
  }
  set authority(v: string) {
    this._authority = v;
  }

  private headerOrEmpty(lower: string): string {
    const v = this.header(lower);
    return v === null ? '' : v;
  }

  header(lower: string): string | null {
    const h = this.headers;
    for (let i = 0; i < h.length; i++) if (h.nameIs(i, lower)) return h.value(i);
    return null;
  }
}

export const KEPT_BY: string[] = ['debug', 'rule', 'parent', 'probability', 'error', 'latency'];
export const DROPPED_BY: string[] = ['rule', 'parent', 'probability', 'cost_cap'];
export const K_DEBUG: i32 = 0;
export const K_RULE: i32 = 1;
export const K_PARENT: i32 = 2;
export const K_PROBABILITY: i32 = 3;
export const K_ERROR: i32 = 4;
export const K_LATENCY: i32 = 5;
export const D_RULE: i32 = 0;
export const D_PARENT: i32 = 1;
export const D_PROBABILITY: i32 = 2;
export const D_COST_CAP: i32 = 3;

export class Decision {
  sampled: bool = false;
  /** index into KEPT_BY, -1 when dropped */
  keptBy: i32 = -1;
  /** index into DROPPED_BY, -1 when kept */
  droppedBy: i32 = -1;
  rule: string = '';
  tracestate: string = '';
  /** The `th` that admitted the span ("" when none). */
  th: string = '';
}

export class Outcome {
  status: i32 = 0;
  /** -1 when not a gRPC call */
  grpcStatus: i32 = -1;
  reset: bool = false;
  durationMs: f64 = 0;
}

class Bucket {
  tokens: f64;
  last: f64;
  constructor(burst: f64, now: f64) {
    this.tokens = burst;
    this.last = now;
  }
}

export class Sampler {
  private probTh: u64;
  private probThText: string = '';
  private ruleTh: u64[] = [];
  private ruleThText: string[] = [];
  private capKeys: string[] = [];
  private capBuckets: Bucket[] = [];
  /** kept per KEPT_BY, dropped per DROPPED_BY */
  readonly kept: i64[] = [0, 0, 0, 0, 0, 0];
  readonly dropped: i64[] = [0, 0, 0, 0];

  constructor(readonly config: SamplingConfig) {
    this.probTh = probabilityToThreshold(config.probability, config.precision);
    this.probThText = this.probTh == NEVER ? '' : encodeThreshold(this.probTh);
    for (let i = 0; i < config.rules.length; i++) {
      const t = probabilityToThreshold(config.rules[i].rate, config.precision);
      this.ruleTh.push(t);
      this.ruleThText.push(t == NEVER ? '' : encodeThreshold(t));
    }
  }

  /** Trust boundary (core/sampling/trust.ts): what the samplers may honour, and how the span attaches. */
  assessTrust(valid: bool, ctx: Inbound, req: SamplingRequest): TrustVerdict {
    const c = this.config;
    const v = new TrustVerdict();
    if (c.trustInternal) {
      v.trusted = true;
      v.attach = valid ? ATTACH_PARENT : ATTACH_NONE;
      v.honoured = valid ? ctx : null;
      return v;
    }
    const header = c.tokenHeader;
    const token: string | null = header === null ? null : req.header(header as string);
    if (token !== null && token.length > 0) {
      const t = verifyDebugToken(token, c.tokenKeyIds, c.tokenSecrets, c.tokenMaxTtlS, req.nowMs);
      if (t.reason == TOKEN_VALID) {
        v.trusted = true;
        v.attach = valid ? ATTACH_PARENT : ATTACH_NONE;
        v.honoured = valid ? ctx : null;
        v.tokenSubject = t.subject;
        return v;
      }
      v.tokenRejected = t.reason;
    }
    if (!valid) return v;
    if (c.inboundLink) {
      v.attach = ATTACH_LINK;
      return v;
    }
    v.attach = ATTACH_PARENT;
    const h = new Inbound();
    h.random = ctx.random;
    h.tracestate = withoutOt(ctx.tracestate);
    v.honoured = h;
    return v;
  }

  head(req: SamplingRequest): Decision {
    let d = this.debug(req);
    if (d === null) d = this.rules(req);
    if (d === null) d = this.parentDecision(req);
    if (d === null) {
      const parentTs = req.parent === null ? '' : (req.parent as Inbound).tracestate;
      d = this.probability(req, this.probTh, this.probThText, parentTs);
      d.keptBy = d.sampled ? K_PROBABILITY : -1;
      d.droppedBy = d.sampled ? -1 : D_PROBABILITY;
    }
    if (d.sampled && d.keptBy != K_DEBUG && this.config.capPerSecond > 0 && !this.admit(req)) {
      const out = new Decision();
      out.droppedBy = D_COST_CAP;
      out.tracestate = writeOtThreshold(d.tracestate, '');
      return out;
    }
    return d;
  }

  final(req: SamplingRequest, head: Decision, o: Outcome): Decision {
    const out = new Decision();
    out.tracestate = head.tracestate;
    if (head.sampled) {
      out.sampled = true;
      out.keptBy = head.keptBy;
      out.th = head.th;
    } else {
      const why = this.responseKeep(req, o);
      if (why >= 0 && (this.config.capPerSecond <= 0 || this.admit(req))) {
        out.sampled = true;
        out.keptBy = why;
      } else out.droppedBy = why >= 0 ? D_COST_CAP : head.droppedBy;
    }
    if (out.keptBy >= 0) this.kept[out.keptBy]++;
    else if (out.droppedBy >= 0) this.dropped[out.droppedBy]++;
    return out;
  }

  responseKeep(req: SamplingRequest, o: Outcome): i32 {
    const c = this.config;
    if (c.errorEnabled) {
      if (c.errorReset && (o.reset || o.status == 0)) return K_ERROR;
      if (o.status >= c.httpStatusMin) return K_ERROR;
      if (c.errorGrpc && o.grpcStatus > 0) return K_ERROR;
    }
    let t = c.latencyThresholdMs;
    for (let i = 0; i < c.latencyRoutes.length; i++) {
      const r = c.latencyRoutes[i];
      const name = r.route;
      const prefix = r.pathPrefix;
      if (
        (name !== null && req.route.length > 0 && name == req.route) ||
        (prefix !== null && req.path.startsWith(prefix))
      ) {
        t = r.thresholdMs;
        break;
      }
    }
    return t >= 0 && o.durationMs >= t ? K_LATENCY : -1;
  }

  private probability(req: SamplingRequest, t: u64, th: string, tracestate: string): Decision {
    const d = new Decision();
    d.sampled = keeps(randomnessOf(req.traceId, readOt(tracestate).rv), t);
    d.th = d.sampled ? th : '';
    d.tracestate = writeOtThreshold(tracestate, d.th);
    return d;
  }

  private debug(req: SamplingRequest): Decision | null {
    if (!req.trusted || !this.debugTriggered(req)) return null;
    const d = new Decision();
    d.sampled = true;
    d.keptBy = K_DEBUG;
    d.tracestate = writeOtThreshold(req.parent === null ? '' : (req.parent as Inbound).tracestate, '');
    return d;
  }

  private debugTriggered(req: SamplingRequest): bool {
    if (req.tokenSubject !== null) return true;
    const p = req.parent;
    if (p !== null && p.debug) return true;
    const c = this.config;
    const dh = c.debugHeader;
    if (dh !== null) {
      const v = req.header(dh);
      if (v !== null && v.length > 0 && v != '0' && asciiLower(v) != 'false') return true;
    }
    if (c.debugUsers.length > 0) {
      const uh = c.debugUserHeader;
      if (uh !== null) {
        const u = req.header(uh);
        if (u !== null && c.debugUsers.includes(u)) return true;
      }
      const claim = c.debugJwtClaim;
      if (claim !== null) {
        const value = jwtClaim(req.header(c.debugJwtHeader), claim);
        if (value !== null && c.debugUsers.includes(value)) return true;
      }
    }
    if (c.debugOpMethods.length == 0) return false;
    const method = asciiUpper(req.method);
    for (let i = 0; i < c.debugOpMethods.length; i++) {
      const m = c.debugOpMethods[i];
      if ((m == '*' || m == method) && req.path.startsWith(c.debugOpPrefixes[i])) return true;
    }
    return false;
  }

  private rules(req: SamplingRequest): Decision | null {
    const rules = this.config.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!ruleMatches(rule, req)) continue;
      const parentTs = req.parent === null ? '' : (req.parent as Inbound).tracestate;
      let d: Decision;
      if (rule.action == ACTION_RATE) d = this.probability(req, this.ruleTh[i], this.ruleThText[i], parentTs);
      else {
        d = new Decision();
        d.sampled = rule.action == ACTION_ALWAYS;
        d.tracestate = writeOtThreshold(parentTs, '');
      }
      d.keptBy = d.sampled ? K_RULE : -1;
      d.droppedBy = d.sampled ? -1 : D_RULE;
      d.rule = rule.name;
      return d;
    }
    return null;
  }

  private parentDecision(req: SamplingRequest): Decision | null {
    const p = req.parent;
    if (p === null || p.sampled < 0) return null;
    const d = new Decision();
    if (p.sampled == 1) {
      d.sampled = true;
      d.keptBy = K_PARENT;
      d.tracestate = p.tracestate;
      d.th = readOt(p.tracestate).th;
    } else {
      d.droppedBy = D_PARENT;
      d.tracestate = readOt(p.tracestate).th.length == 0 ? p.tracestate : writeOtThreshold(p.tracestate, '');
    }
    return d;
  }

  /** Token bucket per route/service key (core/sampling/cost-cap.ts); bounded keys, then one overflow bucket. */
  private admit(req: SamplingRequest): bool {
    const c = this.config;
    let key = c.capPerService ? req.service : req.route.length > 0 ? req.route : req.path;
    let i = this.capKeys.indexOf(key);
    if (i < 0 && this.capKeys.length >= c.capMaxKeys) {
      key = '(overflow)';
      i = this.capKeys.indexOf(key);
    }
    const now = req.nowMs;
    if (i < 0) {
      i = this.capKeys.length;
      this.capKeys.push(key);
      this.capBuckets.push(new Bucket(c.capBurst, now));
    }
    const b = this.capBuckets[i];
    const elapsed = max(0, now - b.last) / 1000;
    b.last = max(b.last, now);
    b.tokens = min(c.capBurst, b.tokens + elapsed * c.capPerSecond);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    return false;
  }
}

export function ruleMatches(m: RuleConfig, req: SamplingRequest): bool {
  if (m.methods.length > 0 && !m.methods.includes(asciiUpper(req.method))) return false;
  const prefix = m.pathPrefix;
  if (prefix !== null && !req.path.startsWith(prefix)) return false;
  const re = m.pathRegex;
  if (re !== null && !re.test(req.path)) return false;
  const a = m.authority;
  if (a !== null && asciiLower(req.authority) != a) return false;
  for (let i = 0; i < m.headerNames.length; i++) {
    const v = req.header(m.headerNames[i]);
    if (v === null || v != m.headerValues[i]) return false;
  }
  return true;
}

/** A claim's value from a JWT ("Bearer " optional), read but not verified (trusted source only). */
export function jwtClaim(value: string | null, claim: string): string | null {
  if (value === null || value.length == 0) return null;
  let token = value;
  if (token.length > 7 && asciiLower(token.substring(0, 6)) == 'bearer') {
    let i = 6;
    while (i < token.length && (token.charCodeAt(i) == 0x20 || token.charCodeAt(i) == 0x09)) i++;
    if (i > 6) token = token.substring(i);
  }
  const parts = token.split('.');
  if (parts.length != 3 || parts[1].length > 8192) return null;
  const bytes = base64urlDecode(parts[1]);
  if (bytes === null) return null;
  const json = new JsonReader(String.UTF8.decode(bytes.buffer));
  const payload = json.parse();
  if (payload === null || payload.kind != JsonKind.Object) return null;
  const v = payload.get(claim);
  if (v === null) return null;
  if (v.kind == JsonKind.String) return v.str;
  // Integer claims only (user ids); a fractional number would need a float formatter here.
  if (v.kind == JsonKind.Number && v.num == Math.floor(v.num) && Math.abs(v.num) < 9007199254740992)
    return (<i64>v.num).toString();
  return null;
}
