// Offline linking by triggers (chain-model.ts), in a window of one workload, in two steps.
//
// 1. Runs. Every call start and every response picks the event that set it off — an arrival, or
//    an earlier call's start or answer — each event setting off at most one thing
//    (trigger-solve.ts: one min-cost flow, the likeliest assignment of the window). Calls joined
//    by call → call triggers form a run: the calls one request made. A run no request could
//    contain (it must have joined two requests' calls) loses the trigger that added its first
//    misfit, and the window is solved again.
// 2. Runs to requests (match-runs.ts): each run goes to the request whose arrival set off its
//    first call and whose response its last answer set off — both ends scored at once — each
//    request taking at most one run. Step 1's arrival and response choices are only there to
//    keep its runs honest; step 2 re-decides them.
//
// Why two steps: decided trigger by trigger (what this module did before), a request's first call
// and its last answer each picked the likeliest neighbour, and where an app served two requests out
// of turn the chains crossed; repairing them afterwards left most such calls unlinked. On
// recorded concurrency-8 windows of the legacy topology, runs taken from the ground truth were
// matched 99.3 % right; with runs from step 1, 94.5–96.3 % of all edges are linked right.
//
// Confidence of a call = the weakest of: its run's pairing, each call → call trigger that put it
// in the run, and that the run's first call was set off by an arrival at all — each
// 1 / (1 + e^−Δ), Δ the log-likelihood the window loses when that choice is forbidden
// (MinCostFlow.detourCost). Calls already certain (forwarded context, or linked by the sidecar
// with one request in flight) constrain the rest; so do anchored calls — whose path shares a
// value (an id) with exactly one request that contains them, where the model saw that pair of
// operations share values nearly always. Every other call — provisional, or linked online by the
// model — is decided here. A call → call trigger is likelier when the call left on the connection
// the earlier call used, where the model saw the app reuse connections; where it saw a transition
// keep its connection (nearly) always, and the connection carried one call at a time, only the
// call before on that connection can have set it off.
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
import { matchRuns, type RunCandidate, type RunMatch } from './match-runs.ts';
import { servedInTurn } from './order-evidence.ts';
import { type Cand, type Solved, solveTriggers } from './trigger-solve.ts';

export interface ChainAssignOptions {
  /**
   * Least confidence (0–1) for a call to be linked. Default 0.8: measured on recorded windows of
   * the legacy topology, wrong links were 0.4–0.8 % of links at concurrency 8 and 2.6–3.1 % at 32.
   */
  threshold?: number;
  /** Log-likelihood cost of a start with no trigger, or of a run no request made. Default 40 nats. */
  orphanCost?: number;
  /** Floor on the spread of a learned gap (log scale): load stretches reaction times. Default 0.6. */
  sigmaFloor?: number;
  /** Triggers are looked for up to e^(μ + gapSigmas·σ) before an event (σ after the floor). Default 6. */
  gapSigmas?: number;
  /** At most this many candidate triggers per call start, and requests per run, the likeliest. Default 6. */
  maxCandidates?: number;
  /** Observations a learned rate (shared values, reused connections) needs before it is used. Default 20. */
  minSamples?: number;
  /** Least learned share of calls passing on a request's value for the value to anchor a call. Default 0.9. */
  anchorRate?: number;
  /**
   * How reaction delays are scored: `ordered` (default: the learned log-normal made log-concave,
   * so that reactions keep the order of what set them off) or `independent` (the log-normal: each
   * request waiting on its own). Ordered was the better of the two on recorded windows for every
   * service of the legacy topology, threaded ones included (inventory, Go, concurrency 8: 676
   * right and 9 wrong vs 660 and 14): under load they queue for the same cores.
   */
  gapShape?: GapShape;
  /**
   * With ordered delays, give a request served in its turn at both ends (order-evidence.ts) at
   * least ORDER_PRECISION confidence in its run. Default true.
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

/** How reaction delays are scored: the learned log-normal, or its log-concave form (orderedLogPdf). */
export type GapShape = 'independent' | 'ordered';

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
  const shape = options.gapShape ?? 'ordered';
  const anchors = anchorByValues(inbound, calls, byKey, workload, wc, minSamples, options.anchorRate ?? 0.9);

  const nodes: Node[] = [];
  const add = (kind: EventKind, span: Span, timeUs: number, request: Span | null, known: Span | null) => {
    const n: Node = { ev: { kind, type: eventType(kind, span), timeUs, span }, request, known };
    nodes.push(n);
    return n;
  };
  const arrivalOf = new Map<Span, Node>();
  const responseOf = new Map<Span, Node>();
  for (const r of inbound) {
    arrivalOf.set(r, add('A', r, r.startUs, r, r));
    responseOf.set(r, add('E', r, r.endUs, r, r));
  }
  const startOf = new Map<Span, Node>();
  const answerOf = new Map<Span, Node>();
  for (const c of calls) {
    const known = certainParent(c, byKey, workload) ?? anchors.get(c) ?? null;
    startOf.set(c, add('S', c, c.startUs, null, known));
    answerOf.set(c, add('F', c, c.endUs, null, known));
  }
  nodes.sort((a, b) => compareEvents(a.ev, b.ev));
  const position = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  // P: what can set a call off (arrivals, call starts, answers); S: call starts, in time order.
  const P = nodes.filter((n) => n.ev.kind !== 'E');
  const pIndex = new Map<Node, number>(P.map((n, i) => [n, i]));
  const S = nodes.filter((n) => n.ev.kind === 'S' || n.ev.kind === 'E');
  const previous = serialPredecessors(calls);
  const requests = [...inbound].sort((a, b) => a.startUs - b.startUs);
  let longestUs = 0;
  for (const r of requests) longestUs = Math.max(longestUs, r.endUs - r.startUs);
  // Two calls can be of one run only if some request contains both: the latest end among
  // requests started by t, per request in start order.
  const latestEnd: number[] = [];
  for (const [i, r] of requests.entries()) latestEnd.push(Math.max(r.endUs, i > 0 ? latestEnd[i - 1]! : 0));
  const fitsOneRequest = (a: Span, b: Span): boolean =>
    fits(Math.min(a.startUs, b.startUs), Math.max(a.endUs, b.endUs));
  function fits(fromUs: number, toUs: number): boolean {
    const i = firstStartingAfter(requests, fromUs + 1) - 1;
    return i >= 0 && latestEnd[i]! >= toUs;
  }

  /** Log-likelihood that `pn` set off `sn` under a model, or null where it cannot have. */
  const scorer = (model: WorkloadChains) => {
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
    const ll = (pn: Node, sn: Node, unbounded = false): number | null => {
      const gap = sn.ev.timeUs - pn.ev.timeUs;
      if (gap < 0 || pn.ev.kind === 'E' || !compatible(pn, sn)) return null;
      if (sn.ev.kind === 'S' && pn.ev.kind !== 'A' && !fitsOneRequest(pn.ev.span, sn.ev.span)) return null;
      const stats = model.byType.get(pn.ev.type);
      const tr = stats?.to.get(sn.ev.type);
      if (stats === undefined || tr === undefined) return null;
      const before = sn.ev.kind === 'S' && pn.ev.kind !== 'A' ? previous.get(sn.ev.span) : undefined;
      const density = { ...tr.gap, sigma: spread(tr.gap.sigma) };
      let gapLL: number;
      if (before !== undefined && keepsConnection(tr, minSamples)) {
        // One call at a time on the connection, and this transition keeps it: only the call
        // before can have set this one off, however long the app took — a gap beyond reach
        // costs no more than one at reach.
        if (before !== pn.ev.span) return null;
        gapLL = Math.max(gapLogPdf(density, gap), logNormalLogPdf(density, reach(tr)));
      } else if (gap > reach(tr)) {
        if (!unbounded) return null;
        gapLL = logNormalLogPdf(density, gap);
      } else gapLL = gapLogPdf(density, gap);
      return (
        Math.log(pTrigger(pn.ev.type)) +
        Math.log(tr.n / Math.max(1, stats.triggered)) +
        gapLL +
        connectionLogRatio(pn, sn, tr, minSamples)
      );
    };
    return { ll, windowUs, pTrigger };
  };

  /** Step 1: call starts to their triggers, and the runs they form. */
  const segment = (sc: ReturnType<typeof scorer>) => {
    const cands: Cand[] = [];
    for (const [si, sn] of S.entries()) {
      const end = position.get(sn)!;
      const mine: Cand[] = [];
      let i = end - 1;
      for (; i >= 0; i--) {
        const pn = nodes[i]!;
        if (sn.ev.timeUs - pn.ev.timeUs > sc.windowUs) break;
        const ll = sc.ll(pn, sn);
        if (ll !== null) mine.push({ p: pIndex.get(pn)!, s: si, ll });
      }
      // The call before on a one-at-a-time connection may lie beyond the scan.
      const before = sn.ev.kind === 'S' ? previous.get(sn.ev.span) : undefined;
      if (before !== undefined)
        for (const pn of [startOf.get(before)!, answerOf.get(before)!]) {
          if (position.get(pn)! > i) continue;
          const ll = sc.ll(pn, sn);
          if (ll !== null) mine.push({ p: pIndex.get(pn)!, s: si, ll });
        }
      // The likeliest few: a trigger many nats behind the best is never worth its place in the solve.
      mine.sort((a, b) => b.ll - a.ll);
      cands.push(...mine.slice(0, perEvent));
    }
    const llNone = P.map((pn) => Math.log(1 - sc.pTrigger(pn.ev.type)));
    let K = 0;
    for (const c of cands) K = Math.max(K, c.ll);
    for (const v of llNone) K = Math.max(K, v);
    // Calls joined by call → call triggers, grouped by the call at the top of their run (one
    // that an arrival, or nothing, set off). A trigger never points forward in time: walks end.
    const joined = (solved: Solved) => {
      const setOffBy = new Map<Span, { call: Span; k: number }>();
      for (const [si, sn] of S.entries()) {
        const k = solved.trigger[si]!;
        if (k < 0 || sn.ev.kind !== 'S') continue;
        const pn = P[cands[k]!.p]!;
        if (pn.ev.kind !== 'A') setOffBy.set(sn.ev.span, { call: pn.ev.span, k });
      }
      const members = new Map<Span, Span[]>();
      for (const c of calls) {
        let root = c;
        for (let up = setOffBy.get(root); up !== undefined; up = setOffBy.get(root)) root = up.call;
        const l = members.get(root) ?? [];
        l.push(c);
        members.set(root, l);
      }
      return { setOffBy, members };
    };
    const forbidden = new Set<number>();
    let solved = solveTriggers(P.length, S.length, cands, llNone, K, orphanCost, forbidden);
    let runsNow = joined(solved);
    // A run no request can contain joined two requests' calls: forbid the trigger that added the
    // first call that does not fit, and solve again (a few rounds at most).
    for (let round = 0; round < MAX_REPAIR_ROUNDS; round++) {
      const before = forbidden.size;
      for (const group of runsNow.members.values()) {
        if (group.length < 2) continue;
        const inOrder = [...group].sort((a, b) => a.startUs - b.startUs);
        let from = Number.POSITIVE_INFINITY;
        let to = 0;
        for (const c of inOrder) {
          from = Math.min(from, c.startUs);
          to = Math.max(to, c.endUs);
          if (fits(from, to)) continue;
          const up = runsNow.setOffBy.get(c);
          if (up !== undefined) forbidden.add(up.k);
          break;
        }
      }
      if (forbidden.size === before) break;
      solved = solveTriggers(P.length, S.length, cands, llNone, K, orphanCost, forbidden);
      runsNow = joined(solved);
    }
    const { setOffBy, members } = runsNow;

    // Candidates by the start they would set off, to ask how sure a run's first call is a first call.
    const intoStart = new Map<number, number[]>();
    for (const [k, c] of cands.entries()) (intoStart.get(c.s) ?? intoStart.set(c.s, []).get(c.s)!).push(k);
    const sIndexOf = new Map<Node, number>(S.map((n, i) => [n, i]));
    /**
     * The weakest choice that put `c` in its run (detour costs, computed on demand): each call →
     * call trigger on the way up, and that the run's first call was set off by an arrival rather
     * than by a call (against every arrival at once: which one is step 2's question). The way up
     * ends early at a call whose request is known (certain or anchored): above it, nothing about
     * `c` is left to decide. A run whose first call nothing could set off is no evidence at all.
     */
    const headConfidence = new Map<Span, number>();
    const placed = (c: Span): number => {
      let conf = 1;
      let at = c;
      for (;;) {
        if (startOf.get(at)!.known !== null) return conf;
        const up = setOffBy.get(at);
        if (up === undefined) break;
        conf = Math.min(conf, solved.confidence(up.k));
        at = up.call;
      }
      let head = headConfidence.get(at);
      if (head === undefined) {
        const si = sIndexOf.get(startOf.get(at)!)!;
        const k = solved.trigger[si]!;
        const arrivals = (intoStart.get(si) ?? []).filter((x) => P[cands[x]!.p]!.ev.kind === 'A');
        head = k < 0 ? 0 : solved.confidence(k, arrivals);
        headConfidence.set(at, head);
      }
      return Math.min(conf, head);
    };
    const runs = [...members.entries()]
      .map(([root, calls]) => {
        let first = calls[0]!;
        let last = calls[0]!;
        const known = new Set<Span>();
        for (const c of calls) {
          if (c.startUs < first.startUs) first = c;
          if (c.endUs > last.endUs) last = c;
          const k = startOf.get(c)!.known;
          if (k !== null) known.add(k);
        }
        return { root, calls, first, last, known };
      })
      .sort((a, b) => a.first.startUs - b.first.startUs);
    return { solved, cands, setOffBy, runs, placed };
  };
  type Segmentation = ReturnType<typeof segment>;

  /** Step 2: runs to requests. */
  const pair = (sc: ReturnType<typeof scorer>, seg: Segmentation): RunMatch => {
    const candidates: RunCandidate[] = [];
    for (const [j, run] of seg.runs.entries()) {
      if (run.known.size > 1) continue; // calls of two known requests in one run: inconsistent
      const head = startOf.get(run.root)!;
      const tail = answerOf.get(run.last)!;
      const mine: RunCandidate[] = [];
      const consider = (r: Span) => {
        if (!(r.startUs <= run.first.startUs && run.last.endUs <= r.endUs)) return;
        const a = sc.ll(arrivalOf.get(r)!, head, true);
        const e = a === null ? null : sc.ll(tail, responseOf.get(r)!, true);
        if (a !== null && e !== null)
          mine.push({ run: j, request: requestIndex.get(r)!, ll: a + e + countLL(r, run.calls.length) });
      };
      if (run.known.size === 1) consider([...run.known][0]!);
      else
        for (let i = firstStartingAfter(requests, run.first.startUs - longestUs); i < requests.length; i++) {
          if (requests[i]!.startUs > run.first.startUs) break;
          consider(requests[i]!);
        }
      mine.sort((x, y) => y.ll - x.ll);
      candidates.push(...mine.slice(0, perEvent));
    }
    const llAlone = requests.map((r) => sc.ll(arrivalOf.get(r)!, responseOf.get(r)!) ?? -orphanCost);
    return matchRuns({ runs: seg.runs.length, requests: requests.length, candidates, llAlone, orphanCost });
  };
  const requestIndex = new Map<Span, number>(requests.map((r, i) => [r, i]));
  /** Log-share of the clean requests of `r`'s operation that made `n` calls (Laplace-smoothed). */
  const countTotals = new Map<Map<number, number>, number>();
  const countLL = (r: Span, n: number): number => {
    const counts = wc.callCounts.get(operationOf(r));
    if (counts === undefined) return 0;
    let total = countTotals.get(counts);
    if (total === undefined) {
      total = 0;
      for (const v of counts.values()) total += v;
      countTotals.set(counts, total);
    }
    return Math.log(((counts.get(n) ?? 0) + 1) / (total + counts.size + 1));
  };

  const pass = (model: WorkloadChains) => {
    const sc = scorer(model);
    const seg = segment(sc);
    return { seg, match: pair(sc, seg) };
  };
  // One hard-EM step: the model was learned at whatever load the clean requests met; the window
  // may be busier (reaction gaps stretch under load). Re-estimate each transition's gap from
  // this window's answer, and solve again under that.
  let result = pass(wc);
  const refitted = refitGaps(wc, gapsOf(result.seg, result.match, requests, P, S), minSamples);
  if (refitted !== null) result = pass(refitted);
  const { seg, match } = result;

  const runOfRequest = new Int32Array(requests.length).fill(-1);
  for (const [j, i] of match.requestOf.entries()) if (i >= 0) runOfRequest[i] = j;
  const confirmed =
    shape === 'ordered' && options.orderEvidence !== false
      ? servedInTurn(
          requests.map((r, i) => {
            const run = runOfRequest[i]! < 0 ? null : seg.runs[runOfRequest[i]!]!;
            return { request: r, run: run && { startUs: run.first.startUs, endUs: run.last.endUs } };
          }),
        )
      : new Set<number>();

  const runOf = new Map<Span, number>();
  for (const [j, run] of seg.runs.entries()) for (const c of run.calls) runOf.set(c, j);
  for (const c of calls) {
    if (certainParent(c, byKey, workload)) continue;
    const unlinked = (reason: ChainUnlinked['reason'], best?: ChainUnlinked['best']) =>
      out.unlinked.push({ outboundTraceId: c.traceId, outboundSpanId: c.spanId, reason, ...(best && { best }) });
    const j = runOf.get(c)!;
    if (seg.runs[j]!.known.size > 1) {
      unlinked('inconsistent');
      continue;
    }
    const i = match.requestOf[j]!;
    if (i < 0) {
      unlinked('no-trigger');
      continue;
    }
    const r = requests[i]!;
    // A request served in its turn at both ends vouches for its run's pairing; the call → call
    // triggers that put this call in the run must still clear the threshold on their own.
    const paired = confirmed.has(i) ? Math.max(match.confidence(j), ORDER_PRECISION) : match.confidence(j);
    const conf = Math.min(paired, seg.placed(c));
    if (conf < threshold) {
      unlinked('below-threshold', { inboundSpanId: r.spanId, confidence: conf });
      continue;
    }
    out.links.push({
      outboundTraceId: c.traceId,
      outboundSpanId: c.spanId,
      inboundTraceId: r.traceId,
      inboundSpanId: r.spanId,
      confidence: conf,
    });
  }
}

const MAX_REPAIR_ROUNDS = 6;

/** Index of the first request (sorted by start) starting at or after `t`. */
function firstStartingAfter(sorted: readonly Span[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.startUs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each call's predecessor on its connection, for connections that carried one call at a time in
 * the window (HTTP/1.1 keep-alive; a multiplexed connection is left out).
 */
function serialPredecessors(calls: readonly Span[]): Map<Span, Span> {
  const byConnection = new Map<number, Span[]>();
  for (const c of calls) {
    const conn = connectionOf(c);
    if (conn === null) continue;
    const l = byConnection.get(conn) ?? [];
    l.push(c);
    byConnection.set(conn, l);
  }
  const out = new Map<Span, Span>();
  for (const l of byConnection.values()) {
    l.sort((a, b) => a.startUs - b.startUs);
    if (l.some((c, i) => i > 0 && c.startUs < l[i - 1]!.endUs)) continue;
    for (let i = 1; i < l.length; i++) out.set(l[i]!, l[i - 1]!);
  }
  return out;
}

/** Whether a call → call transition was learned to stay on its connection (keep-alive reuse by the handler). */
function keepsConnection(tr: { connectionKnown: number; sameConnection: number }, minSamples: number): boolean {
  return tr.connectionKnown >= minSamples && (tr.sameConnection + 1) / (tr.connectionKnown + 2) >= KEEPS_CONNECTION;
}

/**
 * Share of a transition's call pairs on one connection above which only the call before on the
 * connection can be the trigger. The Node service of the legacy topology sent 748 of 748
 * consecutive calls on one connection at concurrency 8 and at 32.
 */
const KEEPS_CONNECTION = 0.98;

/**
 * Confidence given to a run whose request was served in its turn at both ends (order-evidence.ts):
 * the share right of the links it raised to this value on nine recorded concurrency-8 windows of
 * the legacy topology — 803 of 863 (0.930).
 */
const ORDER_PRECISION = 0.93;

/** The gaps of this window's answer, by transition (`<from type>\u0000<to type>`). */
function gapsOf(
  seg: {
    runs: { root: Span; calls: Span[]; last: Span }[];
    setOffBy: Map<Span, { call: Span; k: number }>;
    solved: Solved;
    cands: Cand[];
  },
  match: RunMatch,
  requests: readonly Span[],
  P: readonly Node[],
  S: readonly Node[],
): Map<string, number[]> {
  const gaps = new Map<string, number[]>();
  const push = (from: string, to: string, gap: number) => {
    const key = `${from}\u0000${to}`;
    const l = gaps.get(key) ?? [];
    l.push(gap);
    gaps.set(key, l);
  };
  const matched = new Set<Span>();
  for (const [j, run] of seg.runs.entries()) {
    const i = match.requestOf[j]!;
    if (i < 0) continue;
    const r = requests[i]!;
    for (const c of run.calls) matched.add(c);
    push(eventType('A', r), eventType('S', run.root), run.root.startUs - r.startUs);
    push(eventType('F', run.last), eventType('E', r), r.endUs - run.last.endUs);
  }
  for (const [si, sn] of S.entries()) {
    const k = seg.solved.trigger[si]!;
    if (k < 0 || !matched.has(sn.ev.span)) continue;
    const pn = P[seg.cands[k]!.p]!;
    if (pn.ev.kind === 'A') continue;
    push(pn.ev.type, sn.ev.type, sn.ev.timeUs - pn.ev.timeUs);
  }
  return gaps;
}

/**
 * The workload's trigger model with each transition's gap re-fitted from `gaps` where it has at
 * least `minSamples` of them; null when none has. Counts and trigger shares stay as learned.
 */
function refitGaps(wc: WorkloadChains, gaps: Map<string, number[]>, minSamples = 20): WorkloadChains | null {
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
