// Online linking (issue 9): an app that forwards no trace context makes a call; which of the
// workload's inbound requests in flight caused it?
//
//   inbound listener                         outbound listener (same Envoy, any worker thread)
//   request in ──register()──► registry ◄──decide()── app's call, no context
//   response   ──finish()───►  (learn)  ◄──callDone()─ answer to that call
//
// decide():
//   0 in flight  → no link: the call is the app's own work (a new trace, as today);
//   1 in flight  → linked, certain (method "single", confidence 1): nothing else could have caused it;
//   several      → a call that carries an id of exactly one request in flight (its path shares a
//                  value with that request's) goes to it, where the model saw that pair of
//                  operations pass values on (method "model", evidence "value"); otherwise the
//                  learned pattern (model.ts) rules out requests whose operation never makes this
//                  call, has made all its calls of it, or is waiting on a call of its own and never
//                  has two out at once — and when one request is left it gets the call (evidence
//                  "rules"). Anything else starts a provisional trace carrying the candidates' span
//                  ids, which the collector links offline with the whole window in view.
//
// Only sound evidence links online. A request's state (calls made, calls outstanding) counts only
// calls linked for sure — single, or by value — so a rule never rests on an earlier guess, and
// timing never decides here: under load the app's reaction times overlap (measured: timing-chosen
// links were right 42 % of the time at concurrency 8), and one wrong guess misleads the next.
// The offline pass, which sees every event of the window, is where timing is weighed.
//
// Confidence of a value link = the learned share of calls that carried the request's value; of a
// rules link = 1 − 1/(N + 2), N the fewest clean observations behind the rules used (Laplace's
// rule of succession: the chance that a rule seen to hold N times fails the next time).
import { bytesToHex } from '../trace-context/chars';
import { LinkingConfig } from './config';
import { learnRequest, Model, modelKey, opMaxCalls, opParallel, opSamples, opValueRate } from './model';
import {
  callsOf,
  E_FLAGS,
  E_OP,
  E_OUTSTANDING,
  E_SLOT,
  E_SPAN,
  E_START,
  E_TRACE,
  E_TS,
  E_TS_LEN,
  F_SAMPLED,
  NewEntry,
  noteCall,
  noteCallDone,
  readRegistry,
  register,
  RegistryOutcome,
  registryKey,
  remove,
  sharesValue,
} from './registry';

export enum LinkMethod {
  /** No request was in flight: the call stands alone. */
  None = 0,
  Single = 1,
  Model = 2,
  Provisional = 3,
}

export const LINK_METHOD_NAMES: string[] = ['none', 'single', 'model', 'provisional'];

/** What a model link rests on: an id passed on, or the learned pattern leaving one request. */
export enum LinkEvidence {
  None = 0,
  Value = 1,
  Rules = 2,
}

export const LINK_EVIDENCE_NAMES: string[] = ['', 'value', 'rules'];

export class LinkDecision {
  method: LinkMethod = LinkMethod.None;
  evidence: LinkEvidence = LinkEvidence.None;
  /** The call counts in its request's state (a sure link): its answer must be reported (callDone). */
  tracked: bool = false;
  /** Registry slot of the parent request (linked calls only). */
  slot: u32 = 0;
  confidence: f64 = 0;
  traceId: string = '';
  /** The inbound request's server span: the linked call's parent. */
  parentSpanId: string = '';
  flags: u8 = 0;
  tracestate: string = '';
  /** Requests in flight when the call left. */
  inflight: i32 = 0;
  /** Provisional: span ids of the requests that could have caused it ([] = more than max_candidates). */
  candidates: string[] = [];
  /** Provisional: at least one candidate's trace is sampled (keep the call so it can be linked offline). */
  anyCandidateSampled: bool = false;

  get linked(): bool {
    return this.method == LinkMethod.Single || this.method == LinkMethod.Model;
  }
}

/** What happened to registry and model updates, for counters. */
export class LinkerCounters {
  registryFull: i64 = 0;
  expired: i64 = 0;
  casExhausted: i64 = 0;
  learnedRequests: i64 = 0;
}

export class Linker {
  readonly registryKey: string;
  readonly modelKey: string;
  readonly counters: LinkerCounters = new LinkerCounters();

  constructor(readonly config: LinkingConfig) {
    this.registryKey = registryKey(config.workload);
    this.modelKey = modelKey(config.workload);
  }

  // --- inbound side

  /** Registers a request in flight; its slot, or 0 when it could not be (full, or contention). */
  register(e: NewEntry): u32 {
    const out = register(this.registryKey, e, this.config.maxInflight, <u64>this.config.maxAgeMs * 1_000_000);
    this.absorb(out);
    if (out.full) this.counters.registryFull++;
    this.counters.expired += out.expired;
    return out.slot;
  }

  /** The request's response started (the app is done calling for it): unregister, learn when clean. */
  finish(slot: u32): void {
    const out = new RegistryOutcome();
    const clean = remove(this.registryKey, slot, out);
    this.absorb(out);
    if (clean !== null) {
      if (learnRequest(this.modelKey, clean)) this.counters.learnedRequests++;
      else this.counters.casExhausted++;
    }
  }

  // --- outbound side

  /** `values`: hashes of the ids in the call's path (operation.ts pathValues). */
  decide(op: u32, values: u32[], nowNs: u64): LinkDecision {
    const d = new LinkDecision();
    const snap = readRegistry(this.registryKey);
    const maxAgeNs = <u64>this.config.maxAgeMs * 1_000_000;
    const live: usize[] = [];
    for (let i = 0; i < snap.count; i++) {
      const p = snap.entry(i);
      if (nowNs <= load<u64>(p + E_START) + maxAgeNs) live.push(p);
    }
    d.inflight = live.length;
    if (live.length == 0) return d;
    if (live.length == 1) {
      const p = live[0];
      fill(d, p);
      d.method = LinkMethod.Single;
      d.confidence = 1;
      d.tracked = true;
      this.record(d.slot, op, sharesValue(p, values), nowNs, true, true);
      return d;
    }

    const model = Model.read(this.modelKey);
    const minSamples = <u32>this.config.minSamples;

    // An id passed on: the one request in flight whose path shares a value with the call.
    if (values.length > 0) {
      let match: usize = 0;
      let matches = 0;
      for (let i = 0; i < live.length; i++) {
        if (sharesValue(live[i], values)) {
          match = live[i];
          matches++;
        }
      }
      if (matches == 1) {
        const rec = model.op(load<u32>(match + E_OP));
        const rate = rec == 0 ? -1 : opValueRate(rec, op, minSamples);
        if (rate >= this.config.threshold && !ruledOut(rec, match, op, minSamples)) {
          fill(d, match);
          d.method = LinkMethod.Model;
          d.evidence = LinkEvidence.Value;
          d.confidence = rate;
          d.tracked = true;
          this.record(d.slot, op, true, nowNs, false, true);
          return d;
        }
      }
    }

    const survivors: usize[] = [];
    let weakestRule: u32 = U32.MAX_VALUE;
    for (let i = 0; i < live.length; i++) {
      const p = live[i];
      const rec = model.op(load<u32>(p + E_OP));
      if (ruledOut(rec, p, op, minSamples)) {
        weakestRule = min(weakestRule, opSamples(rec));
        continue;
      }
      survivors.push(p);
    }
    if (survivors.length == 1 && weakestRule != U32.MAX_VALUE) {
      const confidence = 1 - 1 / (<f64>weakestRule + 2);
      if (confidence >= this.config.threshold) {
        fill(d, survivors[0]);
        d.method = LinkMethod.Model;
        d.evidence = LinkEvidence.Rules;
        d.confidence = confidence;
        // Not tracked: a rules link is still a judgement, and state must rest on sure links only.
        this.record(d.slot, op, sharesValue(survivors[0], values), nowNs, false, false);
        return d;
      }
    }
    // Provisional: every request in flight stays a candidate (the model's exclusions rest on
    // this proxy's own, possibly wrong, earlier links; the offline linker re-checks them).
    d.method = LinkMethod.Provisional;
    const write = live.length <= this.config.maxCandidates;
    const ids: string[] = [];
    for (let i = 0; i < live.length; i++) {
      const p = live[i];
      if ((load<u8>(p + E_FLAGS) & F_SAMPLED) != 0) d.anyCandidateSampled = true;
      if (write) ids.push(bytesToHex(p + E_SPAN, 8));
    }
    d.candidates = ids;
    this.record(0, op, false, nowNs, false, false);
    return d;
  }

  /** The answer to a tracked call arrived (or the call ended without one). */
  callDone(slot: u32): void {
    const out = new RegistryOutcome();
    noteCallDone(this.registryKey, slot, out);
    this.absorb(out);
  }

  private record(slot: u32, op: u32, valueHit: bool, nowNs: u64, certain: bool, tracked: bool): void {
    const out = new RegistryOutcome();
    noteCall(this.registryKey, slot, op, valueHit, nowNs, certain, tracked, out);
    this.absorb(out);
  }

  private absorb(out: RegistryOutcome): void {
    if (out.casExhausted) this.counters.casExhausted++;
  }
}

/**
 * Whether the learned pattern of the entry's operation (record `rec`, 0 = unknown) says it cannot
 * make this call now: it never calls `op`, has made all its calls of it, or is waiting on a call
 * of its own and never has two out at once.
 */
function ruledOut(rec: usize, p: usize, op: u32, minSamples: u32): bool {
  if (rec == 0 || opSamples(rec) < minSamples) return false;
  const most = opMaxCalls(rec, op);
  return most < 0 || callsOf(p, op) >= most || (load<u8>(p + E_OUTSTANDING) > 0 && !opParallel(rec));
}

function fill(d: LinkDecision, p: usize): void {
  d.slot = load<u32>(p + E_SLOT);
  d.traceId = bytesToHex(p + E_TRACE, 16);
  d.parentSpanId = bytesToHex(p + E_SPAN, 8);
  d.flags = load<u8>(p + E_FLAGS);
  const n = <i32>load<u8>(p + E_TS_LEN);
  d.tracestate = n == 0 ? '' : String.UTF8.decodeUnsafe(p + E_TS, n);
}

/** The entry a new inbound request registers. */
export function newEntry(
  op: u32,
  values: u32[],
  startNs: u64,
  traceId: string,
  spanId: string,
  flags: u8,
  tracestate: string,
): NewEntry {
  const e = new NewEntry();
  e.values = values;
  e.op = op;
  e.startNs = startNs;
  e.traceId = traceId;
  e.spanId = spanId;
  e.flags = flags;
  e.tracestate = tracestate;
  return e;
}
