// The trigger model of a workload: what sets off each thing a request does. Seen from its
// sidecar, a request is a timeline of events
//
//   A arrival ─▶ S call starts ─▶ F call ends ─▶ … ─▶ E response (the inbound span's end)
//
// and each start or response follows, after a short, typical gap, the event just before it in
// the same request: the app reacts to its request arriving, to a call's answer, to its previous
// call leaving (a parallel fan-out). Sequential, parallel, join-on-last and variable call counts
// are all just different transitions:
//
//   frontend  A ─▶ S item · F item ─▶ S quote · F quote ─▶ S quote · F quote ─▶ E
//   inventory A ─▶ S stock ─▶ S quote · F stock · F quote ─▶ S reserve · F reserve ─▶ E
//
// Learned per workload from requests whose every call is certain (forwarded context, or linked
// by the sidecar with one request in flight), and that no uncertain call overlapped:
//   - how often an event of each type triggers something at all (an F of a parallel call whose
//     sibling is still out triggers nothing);
//   - for each (trigger type → triggered type): how often, the gap as a log-normal, and how often
//     a call triggered by another call left on that call's downstream connection (keep-alive
//     clients reuse the connection their handler just got an answer on);
//   - per (request operation, call operation): how often the call's path carries a value of the
//     request's path (an id passed on: /order/42 → /item/42). Used only where it was seen to hold.
// Types: `A <inbound op>`, `E <inbound op>`, `S <call op>`, `F <call op>`.
import type { Span } from '../model.ts';
import { isCertainCall, isUncertainCall, operationOf, workloadOf } from './attributes.ts';
import { overlapsAny } from './call-model.ts';
import { fitLogNormal, type LogNormal } from './lognormal.ts';

export type EventKind = 'A' | 'F' | 'S' | 'E';
/** Order of simultaneous events: an answer (F) at t sets off a start (S) at t. */
export const KIND_RANK: Record<EventKind, number> = { A: 0, F: 1, S: 2, E: 3 };

export interface Transition {
  /** Times this type triggered `to`. */
  n: number;
  gap: LogNormal;
  /** Largest gap seen (µs). */
  maxGapUs: number;
  /** Call → call triggers where both connections were known, and of those on the same one. */
  connectionKnown: number;
  sameConnection: number;
}

export interface ValueMatch {
  /** Certain calls of this (request operation, call operation) pair… */
  n: number;
  /** …whose path shares a value with the request's. */
  hits: number;
}

export interface TriggerStats {
  /** Events of this type seen. */
  seen: number;
  /** …of which triggered something. */
  triggered: number;
  /** What they triggered, by type. */
  to: Map<string, Transition>;
}

export interface WorkloadChains {
  /** Clean requests learned from. */
  requests: number;
  byType: Map<string, TriggerStats>;
  /** Keyed `<request op>\u0000<call op>`. */
  values: Map<string, ValueMatch>;
  /** Per request operation: how many clean requests made each number of calls. */
  callCounts: Map<string, Map<number, number>>;
}

/** The digit-bearing segments of a span's url.path (ids, numbers): what an operation key drops. */
export function pathValues(s: Span): string[] {
  const path = s.attributes['url.path'];
  if (typeof path !== 'string') return [];
  const out: string[] = [];
  for (const seg of path.split('?')[0]!.split('/')) if (/[0-9]/.test(seg) && out.length < 8) out.push(seg);
  return out;
}

export const sharesValue = (a: readonly string[], b: readonly string[]): boolean => a.some((v) => b.includes(v));

/** The downstream connection a span's request arrived on (`envoy.connection_id`), or null. */
export function connectionOf(s: Span): number | null {
  const c = s.attributes['envoy.connection_id'];
  return typeof c === 'number' && c > 0 ? c : null;
}

export interface ChainModel {
  workloads: Map<string, WorkloadChains>;
}

export interface TimelineEvent {
  kind: EventKind;
  type: string;
  timeUs: number;
  /** The span the event belongs to (the inbound request for A/E, the call for S/F). */
  span: Span;
}

export const eventType = (kind: EventKind, span: Span): string => `${kind} ${operationOf(span)}`;

/** Total order of events: time, then kind rank, then span id (a DAG for the assignment). */
export function compareEvents(a: TimelineEvent, b: TimelineEvent): number {
  return a.timeUs - b.timeUs || KIND_RANK[a.kind] - KIND_RANK[b.kind] || a.span.spanId.localeCompare(b.span.spanId);
}

/** A request's timeline: its arrival, its calls' starts and ends, its response. */
export function timeline(inbound: Span, calls: readonly Span[]): TimelineEvent[] {
  const ev: TimelineEvent[] = [
    { kind: 'A', type: eventType('A', inbound), timeUs: inbound.startUs, span: inbound },
    { kind: 'E', type: eventType('E', inbound), timeUs: inbound.endUs, span: inbound },
  ];
  for (const c of calls) {
    ev.push({ kind: 'S', type: eventType('S', c), timeUs: c.startUs, span: c });
    ev.push({ kind: 'F', type: eventType('F', c), timeUs: c.endUs, span: c });
  }
  return ev.sort(compareEvents);
}

export function learnChainModel(spans: readonly Span[]): ChainModel {
  const byKey = new Map<string, Span>();
  for (const s of spans) byKey.set(`${s.traceId}:${s.spanId}`, s);
  const calls = new Map<Span, Span[]>();
  const uncertain = new Map<string, number[]>();
  for (const s of spans) {
    const w = workloadOf(s);
    if (w === null) continue;
    if (isUncertainCall(s)) {
      const l = uncertain.get(w) ?? [];
      l.push(s.startUs);
      uncertain.set(w, l);
    }
    if (!isCertainCall(s)) continue;
    const parent = byKey.get(`${s.traceId}:${s.parentSpanId}`);
    if (parent === undefined || parent.kind !== 'server' || workloadOf(parent) !== w) continue;
    const l = calls.get(parent) ?? [];
    l.push(s);
    calls.set(parent, l);
  }
  for (const l of uncertain.values()) l.sort((a, b) => a - b);

  const gaps = new Map<string, Map<string, Map<string, { gaps: number[]; known: number; same: number }>>>();
  const model: ChainModel = { workloads: new Map() };
  for (const s of spans) {
    const w = workloadOf(s);
    if (s.kind !== 'server' || w === null || overlapsAny(uncertain.get(w), s.startUs, s.endUs)) continue;
    let wc = model.workloads.get(w);
    if (!wc) {
      wc = { requests: 0, byType: new Map(), values: new Map(), callCounts: new Map() };
      model.workloads.set(w, wc);
      gaps.set(w, new Map());
    }
    wc.requests++;
    const mine = calls.get(s) ?? [];
    const counts = wc.callCounts.get(operationOf(s)) ?? new Map<number, number>();
    wc.callCounts.set(operationOf(s), counts);
    counts.set(mine.length, (counts.get(mine.length) ?? 0) + 1);
    const own = pathValues(s);
    for (const c of mine) {
      const k = `${operationOf(s)}\u0000${operationOf(c)}`;
      const v = wc.values.get(k) ?? { n: 0, hits: 0 };
      wc.values.set(k, v);
      v.n++;
      if (sharesValue(own, pathValues(c))) v.hits++;
    }
    const ev = timeline(s, mine);
    for (let i = 0; i < ev.length - 1; i++) {
      const p = ev[i]!;
      if (p.kind === 'E') continue;
      const stats = wc.byType.get(p.type) ?? { seen: 0, triggered: 0, to: new Map() };
      wc.byType.set(p.type, stats);
      stats.seen++;
      const next = ev[i + 1]!;
      if (next.kind !== 'S' && next.kind !== 'E') continue;
      stats.triggered++;
      const g = gaps.get(w)!;
      const byFrom = g.get(p.type) ?? new Map<string, { gaps: number[]; known: number; same: number }>();
      g.set(p.type, byFrom);
      const acc = byFrom.get(next.type) ?? { gaps: [], known: 0, same: 0 };
      acc.gaps.push(next.timeUs - p.timeUs);
      if ((p.kind === 'S' || p.kind === 'F') && next.kind === 'S') {
        const a = connectionOf(p.span);
        const b = connectionOf(next.span);
        if (a !== null && b !== null) {
          acc.known++;
          if (a === b) acc.same++;
        }
      }
      byFrom.set(next.type, acc);
    }
  }
  for (const [w, wc] of model.workloads) {
    for (const [from, byTo] of gaps.get(w)!) {
      const stats = wc.byType.get(from)!;
      for (const [to, acc] of byTo) {
        stats.to.set(to, {
          n: acc.gaps.length,
          gap: fitLogNormal(acc.gaps),
          maxGapUs: Math.max(...acc.gaps),
          connectionKnown: acc.known,
          sameConnection: acc.same,
        });
      }
    }
  }
  return model;
}
