// The baselines of bench:linking, derived from the spans of the same run so every row scores the
// same traffic:
//   - unlinked(): what a mesh gives without linking — every call the app made with no context
//     (the sidecar recorded a linking method for it) starts a trace of its own, taking everything
//     below it along;
//   - greedy(): that, then each such call given to the most recently started request of its
//     workload still in flight (analysis/linking/greedy.ts), the FCFS baseline.
import { METHOD, PROVISIONAL } from '../../analysis/linking/attributes.ts';
import { assignGreedy, relink } from '../../analysis/linking/index.ts';
import type { Span } from '../../analysis/model.ts';

const cut = (s: Span) => s.kind === 'client' && s.attributes[METHOD] !== undefined;

export function unlinked(spans: readonly Span[]): Span[] {
  const byId = new Map(spans.map((s) => [`${s.traceId}:${s.spanId}`, s]));
  const traceOf = new Map<Span, string>();
  const resolve = (s: Span): string => {
    const known = traceOf.get(s);
    if (known !== undefined) return known;
    let trace: string;
    if (cut(s)) trace = s.spanId.padStart(32, '0');
    else {
      const parent = s.parentSpanId === null ? undefined : byId.get(`${s.traceId}:${s.parentSpanId}`);
      trace = parent === undefined ? s.traceId : resolve(parent);
    }
    traceOf.set(s, trace);
    return trace;
  };
  return spans.map((s) => ({
    ...s,
    traceId: resolve(s),
    parentSpanId: cut(s) ? null : s.parentSpanId,
    attributes: cut(s)
      ? Object.fromEntries(Object.entries(s.attributes).filter(([k]) => !k.startsWith('meshtrace.link.')))
      : s.attributes,
  }));
}

export function greedy(spans: readonly Span[]): Span[] {
  // Every context-less call is a candidate for greedy assignment (no candidate lists: all in flight).
  const bare = unlinked(spans).map((s) =>
    s.kind === 'client' && s.parentSpanId === null && s.attributes['meshtrace.workload'] !== undefined
      ? { ...s, attributes: { ...s.attributes, [PROVISIONAL]: true } }
      : s,
  );
  return relink(bare, assignGreedy(bare)).value;
}
