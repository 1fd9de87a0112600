// A TraceStore that also forwards every appended batch: hand it to startCollector({ store })
// and whatever the collector stores is exported too. Forwarding is fire-and-forget into the
// forwarder's bounded queue, so an unreachable Jaeger never slows or fails ingest.
import type { Span } from '../../analysis/model.ts';
import type { TraceStore } from '../../analysis/store/trace-store.ts';

export function teeStore(store: TraceStore, forward: (spans: readonly Span[]) => void): TraceStore {
  return {
    getTrace: (id) => store.getTrace(id),
    findTraces: (q) => store.findTraces(q),
    services: () => store.services(),
    operations: (s) => store.operations(s),
    spansInWindow: (w) => store.spansInWindow(w),
    enforceRetention: (p, now) => store.enforceRetention(p, now),
    stats: () => store.stats(),
    close: () => store.close(),
    append: async (spans) => {
      await store.append(spans);
      try {
        forward(spans);
      } catch {
        // forwarding never fails ingest; the forwarder counts its own drops
      }
    },
  };
}
