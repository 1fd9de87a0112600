// Offline linking by triggers (chain-model.ts): in a window of one workload, every call start
// and every response picks the event that set it off, each event setting off at most one thing.
//
//                 cap 1, cost K − ll(p → s)
//   source ─▶ P ──────────────────────────▶ S ─▶ sink        P: arrivals, call starts, call ends
//     │         └─ cap 1, K − ll(p → nothing) ─▶ DP ─▶ sink   S: call starts, responses
//     └─▶ DS ─ cap 1, K + orphan ─▶ S                          (cap |P|)
//          └──────── cost K ──────▶ DP
//
// Supply |P| + |S| units, sinks |S| + |P|: every S receives exactly one unit — from the event
// that triggered it, or as an orphan at a high cost — and every P sends one, to what it set off
// or to "nothing". The optimum is the most likely trigger assignment of the whole window. A
// call then belongs to the request its chain of triggers starts at (an arrival). A chain is
// kept only when it is consistent: the request's own response closes it, and each call lies
// within its request. Confidence of a call = the weakest trigger on its chain, each
// 1 / (1 + e^−Δ), Δ the log-likelihood the window loses when that trigger is forbidden
// (MinCostFlow.detourCost). The closing edge is a check, not a confidence term: its cheapest
// detour (two responses swapping closers) is an inconsistent assignment, never a real rival. Calls already certain (forwarded context, or
// linked by the sidecar with one request in flight) constrain the rest; so do anchored calls —
// whose path shares a value (an id) with exactly one request that contains them, where the model
// saw that pair of operations share values nearly always. Every other call — provisional, or
// linked online by the model — is decided here. A call → call trigger is likelier when the call
// left on the connection the earlier call used, where the model saw the app reuse connections.
import type { Span } from '../model.ts';
import { EVIDENCE, isCertainCall, operationOf, workloadOf } from './attributes.ts';
import type { Link } from './assign.ts';
import {
  type ChainModel,
  compareEvents,
  connectionOf,
  type EventKind,
  eventType,
  pathValues,
  sharesValue,
  type TimelineEvent,
  type TriggerStats,
  type WorkloadChains,
} from './chain-model.ts';
import { fitLogNormal, logNormalLogPdf, orderedLogPdf } from './lognormal.ts';
import { type EdgeRef, MinCostFlow } from './min-cost-flow.ts';

export interface ChainAssignOptions {
  /**
   * Least confidence (0–1) for a call to be linked. Default 0.8: with the gap refit, measured on
   * recorded windows of the legacy topology, wrong links were 0.2–0.6 % of links at concurrency
   * 4–8 and 1.6 % at 32 (0.7: up to 2.1 % at 32; without the refit 0.9 gave 2.2 % at 8).
   */
  threshold?: number;
  /** Log-likelihood cost of a start or response with no trigger. Default 40 nats. */
  orphanCost?: number;
  /** Floor on the spread of a learned gap (log scale): load stretches reaction times. Default 0.6. */
  sigmaFloor?: number;
  /** Triggers are looked for up to e^(μ + gapSigmas·σ) before an event (σ after the floor). Default 6. */
  gapSigmas?: number;
  /** At most this many candidate triggers per event, the likeliest. Default 6. */
  maxCandidates?: number;
  /** Observations a learned rate (shared values, reused connections) needs before it is used. Default 20. */
  minSamples?: number;
  /** Least learned share of calls passing on a request's value for the value to anchor a call. Default 0.9. */
  anchorRate?: number;
  /**
   * How reaction delays are scored: `independent` (the learned log-normal: threads, each request
   * waiting on its own), `ordered` (its log-concave form: one event loop keeping its queue's
   * order), or `auto` (default): per workload and window, whichever closes more requests' chains.
   */
  gapShape?: 'auto' | GapShape;
  /**
   * For a workload solved with the ordered model, accept a request's chain whose only weak
   * trigger is its arrival's when the request was served in its turn at both ends
   * (orderAgreement). Default true.
   */
  orderEvidence?: boolean;
}

export interface ChainUnlinked {
  outboundTraceId: string;
  outboundSpanId: string;
  reason: 'no-trigger' | 'inconsistent' | 'below-threshold' | 'untrained';
  best?: { inboundSpanId: string; confidence: number };
}

export interface ChainAssignment {
  /** Confident links for every call that was not certain (some may repeat what the sidecar did). */
  links: Link[];
  unlinked: ChainUnlinked[];
  errors: string[];
}

interface Node {
  ev: TimelineEvent;
  /** For S/F: the call; for A/E: the request. */
  request: Span | null;
  /** Certain request of a call (or the request itself for A/E); null when unknown. */
  known: Span | null;
}

export function assignByChains(
  spans: readonly Span[],
  model: ChainModel,
  options: ChainAssignOptions = {},
): ChainAssignment {
  const threshold = options.threshold ?? 0.8;
  const out: ChainAssignment = { links: [], unlinked: [], errors: [] };
  if (!(threshold >= 0 && threshold <= 1)) {
    out.errors.push(`assign: threshold must be within [0, 1], got ${threshold}`);
    return out;
  }
  const byKey = new Map<string, Span>();
  for (const s of spans) byKey.set(`${s.traceId}:${s.spanId}`, s);
  const groups = new Map<string, { inbound: Span[]; calls: Span[] }>();
  for (const s of spans) {
    const w = workloadOf(s);
    if (w === null || (s.kind !== 'server' && s.kind !== 'client')) continue;
    const g = groups.get(w) ?? { inbound: [], calls: [] };
    groups.set(w, g);
    (s.kind === 'server' ? g.inbound : g.calls).push(s);
  }
  for (const [w, g] of groups) {
    const uncertain = g.calls.filter((c) => !certainParent(c, byKey, w));
    if (uncertain.length === 0) continue;
    const wc = model.workloads.get(w);
    if (wc === undefined || wc.requests === 0) {
      for (const c of uncertain)
        out.unlinked.push({ outboundTraceId: c.traceId, outboundSpanId: c.spanId, reason: 'untrained' });
      continue;
    }
    assignWorkload(w, g.inbound, g.calls, byKey, wc, options, threshold, out);
  }
  return out;
}

/**
 * The parent a call is not re-decided from: a certain one (forwarded context, or one request in
 * flight), or a sidecar link on an id the call passed on (evidence `value`: measured right 310 of
 * 310 times at concurrency 8; re-deciding them only lost some at 32). Value links still never
 * train the model (chain-model.ts uses isCertainCall).
 */
function certainParent(c: Span, byKey: Map<string, Span>, w: string): Span | null {
  if (!isCertainCall(c) && c.attributes[EVIDENCE] !== 'value') return null;
  const p = byKey.get(`${c.traceId}:${c.parentSpanId}`);
  return p !== undefined && p.kind === 'server' && workloadOf(p) === w ? p : null;
}

function assignWorkload(
  workload: string,
  inbound: Span[],
  calls: Span[],
  byKey: Map<string, Span>,
  wc: WorkloadChains,
  options: ChainAssignOptions,
  threshold: number,
  out: ChainAssignment,
): void {
  const orphanCost = options.orphanCost ?? 40;
  const sigmaFloor = options.sigmaFloor ?? 0.6;
  const sigmas = options.gapSigmas ?? 6;
  const perEvent = options.maxCandidates ?? 6;
  const minSamples = options.minSamples ?? 20;
  const anchorRate = options.anchorRate ?? 0.9;
  const anchors = anchorByValues(inbound, calls, byKey, workload, wc, minSamples, anchorRate);

  const nodes: Node[] = [];
  const add = (kind: EventKind, span: Span, timeUs: number, request: Span | null, known: Span | null) =>
    nodes.push({ ev: { kind, type: eventType(kind, span), timeUs, span }, request, known });
  for (const r of inbound) {
    add('A', r, r.startUs, r, r);
    add('E', r, r.endUs, r, r);
  }
  for (const c of calls) {
    const known = certainParent(c, byKey, workload) ?? anchors.get(c) ?? null;
    add('S', c, c.startUs, null, known);
    add('F', c, c.endUs, null, known);
  }
  nodes.sort((a, b) => compareEvents(a.ev, b.ev));

  const pIndex = new Map<Node, number>();
  const sIndex = new Map<Node, number>();
  const P: Node[] = [];
  const S: Node[] = [];
  for (const n of nodes) {
    if (n.ev.kind !== 'E') {
      pIndex.set(n, P.length);
      P.push(n);
    }
    if (n.ev.kind === 'S' || n.ev.kind === 'E') {
      sIndex.set(n, S.length);
      S.push(n);
    }
  }
  const position = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const startOf = new Map<Span, Node>();
  for (const sn of S) if (sn.ev.kind === 'S') startOf.set(sn.ev.span, sn);

  /** Candidates under a model, the solve, and its repair rounds. */
  const solveWith = (model: WorkloadChains, shape: GapShape) => {
    const gapLogPdf = shape === 'ordered' ? orderedLogPdf : logNormalLogPdf;
    // Trigger statistics with Laplace smoothing; gap densities with a spread floor.
    const pTrigger = (type: string): number => {
      const st = model.byType.get(type);
      return st === undefined ? 0.5 : (st.triggered + 1) / (st.seen + 2);
    };
    const spread = (sigma: number) => Math.max(sigmaFloor, sigma);
    const reach = (t: { gap: { mu: number; sigma: number } }) => Math.exp(t.gap.mu + sigmas * spread(t.gap.sigma));
    let windowUs = 0;
    for (const st of model.byType.values()) for (const t of st.to.values()) windowUs = Math.max(windowUs, reach(t));
    const cands: Cand[] = [];
    for (const [si, sn] of S.entries()) {
      const end = position.get(sn)!;
      const mine: Cand[] = [];
      for (let i = end - 1; i >= 0; i--) {
        const pn = nodes[i]!;
        const gap = sn.ev.timeUs - pn.ev.timeUs;
        if (gap > windowUs) break;
        if (pn.ev.kind === 'E' || !compatible(pn, sn)) continue;
        const stats = model.byType.get(pn.ev.type);
        const tr = stats?.to.get(sn.ev.type);
        if (stats === undefined || tr === undefined || gap > reach(tr)) continue;
        const ll =
          Math.log(pTrigger(pn.ev.type)) +
          Math.log(tr.n / Math.max(1, stats.triggered)) +
          gapLogPdf({ ...tr.gap, sigma: spread(tr.gap.sigma) }, gap) +
          connectionLogRatio(pn, sn, tr, minSamples);
        mine.push({ p: pIndex.get(pn)!, s: si, ll });
      }
      // The likeliest few: a trigger many nats behind the best is never worth its place in the solve.
      mine.sort((a, b) => b.ll - a.ll);
      cands.push(...mine.slice(0, perEvent));
    }
    const llNone = P.map((pn) => Math.log(1 - pTrigger(pn.ev.type)));
    let K = 0;
    for (const c of cands) K = Math.max(K, c.ll);
    for (const v of llNone) K = Math.max(K, v);

    // Solve; then forbid each trigger that broke a chain (a response closing another request's
    // chain, a call placed outside its request) and solve again, a few rounds at most.
    const forbidden = new Set<number>();
    let solved = solveTriggers(P.length, S.length, cands, llNone, K, orphanCost, forbidden);
    let resolve = resolver(solved, P, cands, sIndex, startOf, false);
    for (let round = 0; round < MAX_REPAIR_ROUNDS; round++) {
      const before = forbidden.size;
      for (const sn of S) {
        const k = solved.trigger[sIndex.get(sn)!]!;
        if (k < 0) continue;
        const r = resolve(sn).request;
        if (
          sn.ev.kind === 'E'
            ? r !== sn.ev.span
            : r !== null && !(r.startUs <= sn.ev.span.startUs && sn.ev.span.endUs <= r.endUs)
        )
          forbidden.add(k);
      }
      if (forbidden.size === before) break;
      solved = solveTriggers(P.length, S.length, cands, llNone, K, orphanCost, forbidden);
      resolve = resolver(solved, P, cands, sIndex, startOf, false);
    }
    // A request is consistent when its response's chain leads back to its own arrival.
    const closes = new Set<Span>();
    for (const sn of S) if (sn.ev.kind === 'E' && resolve(sn).request === sn.ev.span) closes.add(sn.ev.span);
    return { solved, cands, closes, request: (sn: Node) => resolve(sn).request };
  };

  // One hard-EM step: the model was learned at whatever load the clean requests met; the window
  // may be busier (reaction gaps stretch under load, and a model expecting short gaps prefers
  // pairing a short with a long gap over two medium ones — crossing requests). Re-estimate each
  // transition's gap from this window's consistent chains, and solve again under that.
  const solveRefitted = (shape: GapShape) => {
    const first = solveWith(wc, shape);
    const refitted = refitGaps(wc, S, P, first, sIndex, minSamples);
    return refitted === null ? first : solveWith(refitted, shape);
  };
  // Which reaction model fits the workload is read off the window: delays drawn independently
  // (threads: each request waits on its own) or an order kept (one event loop serving its queue
  // in turn: under load its delays stretch together, and the first model, expecting them
  // independent, pairs requests crosswise). Whichever leaves more requests whose own response
  // closes their chain is kept — closure is a check neither cost function scores. Measured on
  // recorded windows of the legacy topology at concurrency 8: the Node service (one event loop)
  // closed 725 of 751 requests ordered vs 658 independent; the Go one 347 vs 363 of 375.
  const shape = options.gapShape ?? 'auto';
  let kept: GapShape = shape === 'ordered' ? 'ordered' : 'independent';
  let round = solveRefitted(kept);
  if (shape === 'auto' && round.closes.size < ORDERED_TRIAL_BELOW * inbound.length) {
    const ordered = solveRefitted('ordered');
    if (ordered.closes.size > round.closes.size) {
      round = ordered;
      kept = 'ordered';
    }
  }
  const { solved, cands, closes } = round;
  const resolve = resolver(solved, P, cands, sIndex, startOf, true);
  const confirmedByOrder =
    kept === 'ordered' && options.orderEvidence !== false
      ? orderAgreement(inbound, S, P, solved, cands, sIndex)
      : new Set<Span>();

  for (const c of calls) {
    if (certainParent(c, byKey, workload)) continue;
    const r = resolve(startOf.get(c)!);
    const unlinked = (reason: ChainUnlinked['reason'], best?: ChainUnlinked['best']) =>
      out.unlinked.push({ outboundTraceId: c.traceId, outboundSpanId: c.spanId, reason, ...(best && { best }) });
    if (r.request === null) {
      unlinked('no-trigger');
      continue;
    }
    const contained = r.request.startUs <= c.startUs && c.endUs <= r.request.endUs;
    if (!closes.has(r.request) || !contained) {
      unlinked('inconsistent', { inboundSpanId: r.request.spanId, confidence: 0 });
      continue;
    }
    // A request served in its turn at both ends (orderAgreement) vouches for the trigger from
    // its arrival; every other trigger on the call's chain must still clear the threshold.
    const conf =
      r.conf < threshold && confirmedByOrder.has(r.request) ? Math.min(r.confAboveArrival, ORDER_PRECISION) : r.conf;
    if (conf < threshold) {
      unlinked('below-threshold', { inboundSpanId: r.request.spanId, confidence: conf });
      continue;
    }
    out.links.push({
      outboundTraceId: c.traceId,
      outboundSpanId: c.spanId,
      inboundTraceId: r.request.traceId,
      inboundSpanId: r.request.spanId,
      confidence: conf,
    });
  }
}

/**
 * Whether `p` may have set off `s` given what is certain: arrivals and responses belong to their
 * request; a certain call to its parent. Events of two different known requests never chain.
 */
function compatible(p: Node, s: Node): boolean {
  if (p.ev.kind === 'A' && s.ev.kind === 'E') return p.request === s.request;
  if (p.ev.kind === 'A' && s.ev.kind === 'S' && s.ev.span.endUs > p.request!.endUs) return false;
  if (s.ev.kind === 'E' && (p.ev.kind === 'S' || p.ev.kind === 'F') && p.ev.span.startUs < s.request!.startUs)
    return false;
  return p.known === null || s.known === null || p.known === s.known;
}

const MAX_REPAIR_ROUNDS = 6;

/**
 * Share of a window's requests closed under independent delays below which the ordered model is
 * tried too (a second solve: worth it only where chains are visibly failing).
 */
const ORDERED_TRIAL_BELOW = 0.97;

/** How reaction delays are scored: the learned log-normal, or its log-concave form (orderedLogPdf). */
export type GapShape = 'independent' | 'ordered';

interface Cand {
  p: number;
  s: number;
  ll: number;
}

/**
 * The workload's trigger model with each transition's gap re-fitted from the chains of `round`
 * whose request's response closes them (consistent), where a transition has at least
 * `minSamples` of them; null when none has. Counts and trigger shares stay as learned.
 */
function refitGaps(
  wc: WorkloadChains,
  S: Node[],
  P: Node[],
  round: { solved: Solved; cands: Cand[]; closes: Set<Span>; request: (sn: Node) => Span | null },
  sIndex: Map<Node, number>,
  minSamples: number,
): WorkloadChains | null {
  const gaps = new Map<string, number[]>();
  for (const sn of S) {
    const k = round.solved.trigger[sIndex.get(sn)!]!;
    if (k < 0) continue;
    const r = round.request(sn);
    if (r === null || !round.closes.has(r)) continue;
    const pn = P[round.cands[k]!.p]!;
    const key = `${pn.ev.type}\u0000${sn.ev.type}`;
    const list = gaps.get(key) ?? [];
    list.push(sn.ev.timeUs - pn.ev.timeUs);
    gaps.set(key, list);
  }
  let changed = false;
  const byType = new Map<string, TriggerStats>();
  for (const [from, st] of wc.byType) {
    const to = new Map(st.to);
    for (const [type, tr] of st.to) {
      const list = gaps.get(`${from}\u0000${type}`);
      if (list === undefined || list.length < minSamples) continue;
      to.set(type, { ...tr, gap: fitLogNormal(list), maxGapUs: Math.max(tr.maxGapUs, ...list) });
      changed = true;
    }
    byType.set(from, { ...st, to });
  }
  return changed ? { ...wc, byType } : null;
}

interface Solved {
  /** Each S's trigger (index into the candidates), or -1 for an orphan. */
  trigger: Int32Array;
  /** Confidence of a chosen trigger (by candidate index), computed on demand. */
  confidence(k: number): number;
}

/**
 * Starts and responses per solve. Triggers reach back a few milliseconds, so a window is solved
 * in consecutive chunks of events, each seeing the triggers earlier chunks left free: the cost
 * grows linearly with the window instead of quadratically, and only choices across a seam can
 * differ from one global solve. 128 rather than 256: the same links on three recorded windows
 * of the legacy topology (edges correct within 0.3 point, wrong within 0.2) in 55–60 % of the time.
 */
const CHUNK = 128;

/** The trigger assignment (see the drawing at the top), solved chunk by chunk in time order. */
function solveTriggers(
  nP: number,
  nS: number,
  cands: { p: number; s: number; ll: number }[],
  llNone: number[],
  K: number,
  orphanCost: number,
  forbidden: Set<number>,
): Solved {
  const trigger = new Int32Array(nS).fill(-1);
  const used = new Uint8Array(nP);
  const bySink: number[][] = Array.from({ length: nS }, () => []);
  for (const [k, c] of cands.entries()) if (!forbidden.has(k)) bySink[c.s]!.push(k);
  const owner: { g: MinCostFlow; ref: EdgeRef }[] = new Array(cands.length);
  for (let from = 0; from < nS; from += CHUNK) {
    const to = Math.min(nS, from + CHUNK);
    // This chunk's starts/responses and the still-free events that could have triggered them.
    const localP = new Map<number, number>();
    const ks: number[] = [];
    for (let j = from; j < to; j++) {
      for (const k of bySink[j]!) {
        const p = cands[k]!.p;
        if (used[p]) continue;
        if (!localP.has(p)) localP.set(p, localP.size);
        ks.push(k);
      }
    }
    // 0 source, 1 sink, 2 DS, 3 DP, then the chunk's P, then its S.
    const nLocalS = to - from;
    const firstP = 4;
    const firstS = firstP + localP.size;
    const g = new MinCostFlow(firstS + nLocalS);
    for (const [p, i] of localP) {
      g.addEdge(0, firstP + i, 1, 0);
      g.addEdge(firstP + i, 3, 1, K - llNone[p]!);
    }
    g.addEdge(0, 2, nLocalS, 0);
    g.addEdge(2, 3, nLocalS, K);
    for (let j = 0; j < nLocalS; j++) {
      g.addEdge(2, firstS + j, 1, K + orphanCost);
      g.addEdge(firstS + j, 1, 1, 0);
    }
    g.addEdge(3, 1, localP.size, 0);
    const refs = ks.map((k) =>
      g.addEdge(firstP + localP.get(cands[k]!.p)!, firstS + cands[k]!.s - from, 1, K - cands[k]!.ll),
    );
    g.solve(0, 1);
    for (const [i, k] of ks.entries()) {
      owner[k] = { g, ref: refs[i]! };
      if (g.flowOn(refs[i]!) > 0) {
        trigger[cands[k]!.s] = k;
        used[cands[k]!.p] = 1;
      }
    }
  }
  const cache = new Map<number, number>();
  return {
    trigger,
    confidence(k) {
      let v = cache.get(k);
      if (v === undefined) {
        const o = owner[k]!;
        const delta = o.g.detourCost(o.ref);
        v = delta === Number.POSITIVE_INFINITY ? 1 : 1 / (1 + Math.exp(-delta));
        cache.set(k, v);
      }
      return v;
    },
  };
}

interface Resolved {
  request: Span | null;
  /** The weakest trigger's confidence on the chain back to the arrival. */
  conf: number;
  /** The same without the first trigger (the one the arrival set off). */
  confAboveArrival: number;
}

/**
 * Requests of an event-loop workload that the solve places in their turn at both ends. One
 * event loop mostly serves what reaches it in order, so matching requests to their first calls
 * by rank (k-th arrival ↔ k-th first call) and, separately, to their last answers by rank (k-th
 * response ↔ k-th last answer) mostly gives the truth; where a request was served out of turn
 * the two rank matchings disagree about it, and neither says which is right. On recorded
 * concurrency-8 windows of the legacy topology, ranks taken from the ground truth, both agreed
 * for 574 / 599 of 751 requests with 5 / 3 wrong (Envoy sidecars with two workers), and for 701
 * with 1 wrong (one worker). Here the ranks come from the solve: a request whose solved first
 * call and last answer both keep its rank is confirmed.
 */
function orderAgreement(
  inbound: readonly Span[],
  S: readonly Node[],
  P: readonly Node[],
  solved: Solved,
  cands: readonly { p: number }[],
  sIndex: Map<Node, number>,
): Set<Span> {
  const firstStart = new Map<Span, Node>();
  const lastAnswer = new Map<Span, Node>();
  for (const sn of S) {
    const k = solved.trigger[sIndex.get(sn)!]!;
    if (k < 0) continue;
    const pn = P[cands[k]!.p]!;
    if (sn.ev.kind === 'S' && pn.ev.kind === 'A' && pn.request !== null) firstStart.set(pn.request, sn);
    else if (sn.ev.kind === 'E' && pn.ev.kind === 'F') lastAnswer.set(sn.ev.span, pn);
  }
  const paired = (r: Span) => firstStart.has(r) && lastAnswer.has(r);
  const both = inbound.filter(paired);
  // Ranked over the solve's pairs alone, a request the solve left unpaired would let the pairs
  // after it shift by one and still agree: a request next to an unpaired one (in arrival or in
  // response order) is never confirmed.
  const besideUnpaired = new Set<Span>();
  for (const order of [
    [...inbound].sort((a, b) => a.startUs - b.startUs),
    [...inbound].sort((a, b) => a.endUs - b.endUs),
  ])
    for (const [i, r] of order.entries())
      if (!paired(r)) {
        if (i > 0) besideUnpaired.add(order[i - 1]!);
        if (i + 1 < order.length) besideUnpaired.add(order[i + 1]!);
      }
  const inTurn = (requestTime: (r: Span) => number, own: Map<Span, Node>): Set<Span> => {
    const byRequest = [...both].sort((a, b) => requestTime(a) - requestTime(b));
    const byEvent = [...both].sort((a, b) => compareEvents(own.get(a)!.ev, own.get(b)!.ev));
    const ok = new Set<Span>();
    for (let i = 0; i < byRequest.length; i++) if (byRequest[i] === byEvent[i]) ok.add(byRequest[i]!);
    return ok;
  };
  const atStart = inTurn((r) => r.startUs, firstStart);
  const atEnd = inTurn((r) => r.endUs, lastAnswer);
  return new Set(both.filter((r) => atStart.has(r) && atEnd.has(r) && !besideUnpaired.has(r)));
}

/**
 * Confidence given to a trigger confirmed by order (orderAgreement): the share of the calls it
 * added that were right on three recorded concurrency-8 windows (364 of 390, 323 of 349, 196 of
 * 213 — the solve's ranks are less sure than the truth's).
 */
const ORDER_PRECISION = 0.93;

/** The request each start or response's chain of triggers begins at, and the weakest trigger on it. */
function resolver(
  solved: Solved,
  P: Node[],
  cands: { p: number; s: number; ll: number }[],
  sIndex: Map<Node, number>,
  startOf: Map<Span, Node>,
  withConfidence: boolean,
): (sn: Node) => Resolved {
  const edgeConfidence = (k: number): number => solved.confidence(k);
  const memo = new Map<Node, Resolved>();
  const resolve = (sn: Node): Resolved => {
    const hit = memo.get(sn);
    if (hit) return hit;
    memo.set(sn, { request: null, conf: 0, confAboveArrival: 0 }); // guards a (theoretically impossible) cycle
    const k = solved.trigger[sIndex.get(sn)!]!;
    let res: Resolved;
    if (k < 0) res = { request: null, conf: 0, confAboveArrival: 0 };
    else {
      const pn = P[cands[k]!.p]!;
      // Confidence is computed lazily: only chains that end up linked pay for their detours.
      const conf = () => (withConfidence ? edgeConfidence(k) : 1);
      if (pn.ev.kind === 'A') res = { request: pn.request, conf: conf(), confAboveArrival: 1 };
      else {
        const up = resolve(startOf.get(pn.ev.span)!);
        const c = up.request === null ? 0 : conf();
        res = {
          request: up.request,
          conf: up.request === null ? 0 : Math.min(c, up.conf),
          confAboveArrival: up.request === null ? 0 : Math.min(c, up.confAboveArrival),
        };
      }
    }
    memo.set(sn, res);
    return res;
  };
  return resolve;
}

/** Chance that a call shares a connection with an unrelated earlier call (pool reuse across requests). */
const UNRELATED_SAME_CONNECTION = 0.2;

/** Log-likelihood ratio of the connection evidence on a call → call trigger; 0 when unlearned or unknown. */
function connectionLogRatio(
  p: Node,
  s: Node,
  tr: { connectionKnown: number; sameConnection: number },
  minSamples: number,
): number {
  if ((p.ev.kind !== 'S' && p.ev.kind !== 'F') || s.ev.kind !== 'S' || tr.connectionKnown < minSamples) return 0;
  const a = connectionOf(p.ev.span);
  const b = connectionOf(s.ev.span);
  if (a === null || b === null) return 0;
  const same = Math.min(0.98, Math.max(0.02, (tr.sameConnection + 1) / (tr.connectionKnown + 2)));
  return a === b ? Math.log(same / UNRELATED_SAME_CONNECTION) : Math.log((1 - same) / (1 - UNRELATED_SAME_CONNECTION));
}

/**
 * Calls whose path shares a value with exactly one request of the workload that contains them in
 * time, where the model saw calls of that operation under that request operation pass the
 * request's value on at least `rate` of the time (Laplace-smoothed, `minSamples` observations).
 */
function anchorByValues(
  inbound: Span[],
  calls: Span[],
  byKey: Map<string, Span>,
  workload: string,
  wc: WorkloadChains,
  minSamples: number,
  rate: number,
): Map<Span, Span> {
  const out = new Map<Span, Span>();
  const sorted = [...inbound].sort((a, b) => a.startUs - b.startUs);
  const values = new Map<Span, string[]>(sorted.map((r) => [r, pathValues(r)]));
  for (const c of calls) {
    if (certainParent(c, byKey, workload)) continue;
    const mine = pathValues(c);
    if (mine.length === 0) continue;
    let match: Span | null = null;
    let matches = 0;
    for (const r of sorted) {
      if (r.startUs > c.startUs) break;
      if (c.endUs > r.endUs || !sharesValue(values.get(r)!, mine)) continue;
      const v = wc.values.get(`${operationOf(r)}\u0000${operationOf(c)}`);
      if (v === undefined || v.n < minSamples || (v.hits + 1) / (v.n + 2) < rate) continue;
      match = r;
      matches++;
    }
    if (matches === 1 && match !== null) out.set(c, match);
  }
  return out;
}
