// The learned call pattern of each (workload, inbound operation): which outbound operations it
// calls, how many times, in what order, and how long after the inbound request starts. Learnt
// from edges that are already certain — outbound CLIENT spans whose parent is an inbound SERVER
// span of the same workload (headers were forwarded, or a window had one candidate) — never
// from inferred links, so a wrong guess cannot teach itself. An inbound request counts as a
// sample only when no uncertain call of its workload started while it was in flight: otherwise
// one of its calls may be among them, and its pattern would be learned short.
import type { Span } from '../model.ts';
import { isCertainCall, isUncertainCall, operationOf, workloadOf } from './attributes.ts';
import { fitLogNormal, type LogNormal, logNormalLogPdf } from './lognormal.ts';

export interface OutboundPattern {
  operation: string;
  /** Share of inbound requests that made this call at least once. */
  share: number;
  meanCount: number;
  /** Most calls of this operation seen under one inbound request: the assignment's capacity. */
  maxCount: number;
  /** Inbound start → outbound start (µs). */
  delay: LogNormal;
  /** Outbound end → inbound end (µs): the work left after the call returns. */
  tail: LogNormal;
  /** Previous call's end → this call's start (µs), for calls made after another returned. */
  afterPrevious: LogNormal;
}

export interface InboundPattern {
  workload: string;
  operation: string;
  samples: number;
  outbound: Map<string, OutboundPattern>;
  /** Outbound operations in start order, most frequent first (at most 5 sequences). */
  sequences: { operations: string[]; share: number }[];
}

export interface CallModel {
  patterns: Map<string, InboundPattern>;
}

export const patternKey = (workload: string, operation: string): string => `${workload}\u0000${operation}`;

/** Learn the call model from spans whose inbound→outbound edges are known. */
export function learnCallModel(spans: readonly Span[]): CallModel {
  const byKey = new Map<string, Span>();
  for (const s of spans) byKey.set(`${s.traceId}:${s.spanId}`, s);
  const children = new Map<Span, Span[]>();
  for (const s of spans) {
    if (!isCertainCall(s)) continue;
    const w = workloadOf(s);
    const parent = byKey.get(`${s.traceId}:${s.parentSpanId}`);
    if (w === null || parent === undefined || parent.kind !== 'server' || workloadOf(parent) !== w) continue;
    const list = children.get(parent);
    if (list) list.push(s);
    else children.set(parent, [s]);
  }
  // Starts of uncertain calls per workload, sorted: an inbound span overlapping one is not clean.
  const uncertain = new Map<string, number[]>();
  for (const s of spans) {
    const w = workloadOf(s);
    if (w === null || !isUncertainCall(s)) continue;
    const l = uncertain.get(w);
    if (l) l.push(s.startUs);
    else uncertain.set(w, [s.startUs]);
  }
  for (const l of uncertain.values()) l.sort((a, b) => a - b);
  // Every clean inbound span of a workload counts as a sample, including those that made no call.
  const groups = new Map<string, { workload: string; operation: string; inbound: Span[] }>();
  for (const s of spans) {
    const w = workloadOf(s);
    if (s.kind !== 'server' || w === null || overlapsAny(uncertain.get(w), s.startUs, s.endUs)) continue;
    const op = operationOf(s);
    const k = patternKey(w, op);
    const g = groups.get(k);
    if (g) g.inbound.push(s);
    else groups.set(k, { workload: w, operation: op, inbound: [s] });
  }
  const patterns = new Map<string, InboundPattern>();
  for (const [k, g] of groups) patterns.set(k, learnPattern(g.workload, g.operation, g.inbound, children));
  return { patterns };
}

function learnPattern(
  workload: string,
  operation: string,
  inbound: Span[],
  children: Map<Span, Span[]>,
): InboundPattern {
  const acc = new Map<
    string,
    { callers: number; calls: number; max: number; delay: number[]; tail: number[]; after: number[] }
  >();
  const seqCount = new Map<string, { operations: string[]; n: number }>();
  for (const parent of inbound) {
    const calls = [...(children.get(parent) ?? [])].sort((a, b) => a.startUs - b.startUs);
    const perOp = new Map<string, number>();
    for (const [i, c] of calls.entries()) {
      const cop = operationOf(c);
      let a = acc.get(cop);
      if (!a) {
        a = { callers: 0, calls: 0, max: 0, delay: [], tail: [], after: [] };
        acc.set(cop, a);
      }
      a.calls++;
      perOp.set(cop, (perOp.get(cop) ?? 0) + 1);
      a.delay.push(c.startUs - parent.startUs);
      a.tail.push(parent.endUs - c.endUs);
      let prevEnd = -Infinity;
      for (let j = 0; j < i; j++) {
        const e = calls[j]!.endUs;
        if (e <= c.startUs && e > prevEnd) prevEnd = e;
      }
      if (prevEnd > -Infinity) a.after.push(c.startUs - prevEnd);
    }
    for (const [op, n] of perOp) {
      const a = acc.get(op)!;
      a.callers++;
      a.max = Math.max(a.max, n);
    }
    const ops = calls.map((c) => operationOf(c));
    const sk = ops.join('\u0000');
    const sc = seqCount.get(sk);
    if (sc) sc.n++;
    else seqCount.set(sk, { operations: ops, n: 1 });
  }
  const outbound = new Map<string, OutboundPattern>();
  for (const [op, a] of acc) {
    outbound.set(op, {
      operation: op,
      share: a.callers / inbound.length,
      meanCount: a.calls / inbound.length,
      maxCount: a.max,
      delay: fitLogNormal(a.delay),
      tail: fitLogNormal(a.tail),
      afterPrevious: fitLogNormal(a.after),
    });
  }
  const sequences = [...seqCount.values()]
    .sort((a, b) => b.n - a.n)
    .slice(0, 5)
    .map((s) => ({ operations: s.operations, share: s.n / inbound.length }));
  return { workload, operation, samples: inbound.length, outbound, sequences };
}

/**
 * Log-likelihood that `outbound` was made while serving `inbound`: the call's prior under the
 * inbound operation plus the two delay densities, taken as independent. `null` when the model
 * knows the inbound operation and has never seen it make this call (an impossible edge);
 * 0 when the model knows nothing about the inbound operation (every candidate equally likely).
 */
export function edgeLogLikelihood(model: CallModel, workload: string, inbound: Span, outbound: Span): number | null {
  const p = model.patterns.get(patternKey(workload, operationOf(inbound)));
  if (p === undefined || p.samples === 0) return 0;
  const o = p.outbound.get(operationOf(outbound));
  if (o === undefined) return null;
  return (
    Math.log(o.share) +
    logNormalLogPdf(o.delay, outbound.startUs - inbound.startUs) +
    logNormalLogPdf(o.tail, inbound.endUs - outbound.endUs)
  );
}

/** Calls of `operation` one inbound request of `inbound.name` may make; unknown → unbounded. */
export function capacityOf(model: CallModel, workload: string, inboundOperation: string, operation: string): number {
  const p = model.patterns.get(patternKey(workload, inboundOperation));
  if (p === undefined || p.samples === 0) return Number.POSITIVE_INFINITY;
  return p.outbound.get(operation)?.maxCount ?? 0;
}

/** Whether a sorted list of times has one within [from, to]. */
export function overlapsAny(sorted: number[] | undefined, from: number, to: number): boolean {
  if (sorted === undefined) return false;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! <= to;
}
