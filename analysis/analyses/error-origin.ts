// Where a trace's failure started and how it travelled to the root.
//
// An origin is a failing span none of whose children failed: nothing below explains it.
// A trace can have several (a handled cache miss next to the real outage), so the one that
// explains the root is found by walking down from the root through failing spans, at each
// step into the failing child that ended last — the failure the parent was reacting to when
// it gave up:
//
//   root           ✗ |=================================|
//     cache           |==| ✗ handled (root went on)
//     checkout     ✗      |=========================|
//       payments   ✗         |==================|
//         bank     ✗            |=========| ← origin
//
//   origin bank; path bank → payments → checkout → root
//
// If the root did not fail, the trace has no primary origin (its failures were absorbed) but
// the absorbed origins are still listed.
import type { Span } from '../model.ts';
import { type BatchResult, spansByTrace, type TraceError } from './batch.ts';
import { spanFailed } from './span-failed.ts';

export interface SpanRef {
  spanId: string;
  service: string;
  name: string;
}

export interface ErrorOrigin {
  traceId: string;
  rootFailed: boolean;
  /** The origin that explains the root's failure; null when the root did not fail. */
  origin: SpanRef | null;
  /** From the origin up to the root (inclusive), failing or not. */
  propagationPath: SpanRef[];
  /** Every failing span without a failing child. */
  allOrigins: SpanRef[];
  message: string; // the origin's status message (or first exception message)
}

export type ErrorOriginResult = { ok: true; value: ErrorOrigin } | { ok: false; reason: string };

const ref = (s: Span): SpanRef => ({ spanId: s.spanId, service: s.service, name: s.name });

export function errorMessageOf(s: Span): string {
  if (s.statusMessage) return s.statusMessage;
  for (const e of s.events) {
    const m = e.attributes['exception.message'];
    if (e.name === 'exception' && typeof m === 'string') return m;
  }
  return '';
}

export function errorOrigin(spans: readonly Span[]): ErrorOriginResult {
  if (spans.length === 0) return { ok: false, reason: 'trace has no spans' };
  const byId = new Map<string, Span>();
  for (const s of spans) byId.set(s.spanId, s);
  const children = new Map<string, Span[]>();
  let root: Span | null = null;
  for (const s of spans) {
    if (s.parentSpanId !== null && s.parentSpanId !== s.spanId && byId.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId);
      if (list) list.push(s);
      else children.set(s.parentSpanId, [s]);
    } else if (root === null || s.endUs - s.startUs > root.endUs - root.startUs) root = s;
  }
  if (root === null) return { ok: false, reason: 'trace has no root span (every span has a parent)' };
  const failed = (s: Span) => spanFailed(s);
  const failingChildren = (s: Span) => (children.get(s.spanId) ?? []).filter(failed);
  const allOrigins = spans.filter((s) => failed(s) && failingChildren(s).length === 0).map(ref);

  const rootFailed = failed(root);
  let origin: Span | null = null;
  if (rootFailed) {
    let at: Span = root;
    const seen = new Set<string>([root.spanId]);
    for (;;) {
      const next: Span | null = failingChildren(at).reduce<Span | null>(
        (best, c) => (best === null || c.endUs > best.endUs ? c : best),
        null,
      );
      if (next === null || seen.has(next.spanId)) break;
      seen.add(next.spanId);
      at = next;
    }
    origin = at;
  }
  const propagationPath: SpanRef[] = [];
  if (origin !== null) {
    const seen = new Set<string>();
    for (
      let s: Span | undefined = origin;
      s !== undefined && !seen.has(s.spanId);
      s = s.parentSpanId === null ? undefined : byId.get(s.parentSpanId)
    ) {
      seen.add(s.spanId);
      propagationPath.push(ref(s));
    }
  }
  return {
    ok: true,
    value: {
      traceId: root.traceId,
      rootFailed,
      origin: origin === null ? null : ref(origin),
      propagationPath,
      allOrigins,
      message: origin === null ? '' : errorMessageOf(origin),
    },
  };
}

/** Error origins of every trace whose root failed (batch; bad traces are reported, not thrown). */
export function errorOrigins(spans: readonly Span[]): BatchResult<ErrorOrigin[]> {
  const errors: TraceError[] = [];
  const value: ErrorOrigin[] = [];
  for (const [traceId, trace] of spansByTrace(spans)) {
    if (!trace.some(spanFailed)) continue;
    const r = errorOrigin(trace);
    if (!r.ok) errors.push({ traceId, reason: r.reason });
    else if (r.value.rootFailed) value.push(r.value);
  }
  return { value, errors };
}
