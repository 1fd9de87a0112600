// Holds the ended spans of one request until its local root span (the hop's server span) ends,
// then forwards all of them or none, by the root's final sampling decision — the decision is
// made at response time (error / latency bias), after the child CLIENT spans have ended.
//
//   server span ──────────────────────────────────────────────┤ end: kept_by? → forward all
//     attempt 1 ──────┤ (held)                                       else → drop all, count
//     attempt 2            ─────────────┤ (held)
//
// This is a per-request buffer, bounded by `maxChildren` per root and `maxRoots` roots in
// flight; spans past either bound are dropped and counted — tracing never grows memory freely.
import { type Context, trace } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Attribute the host sets on the root span when its final decision keeps it. */
export const KEPT_BY = 'meshtrace.sampling.kept_by';

/** How many decided roots are remembered for late children. */
const DECIDED_MAX = 1024;

export interface DecisionCounters {
  kept: number;
  discarded: number;
  overflow: number;
}

export class DeferredDecisionProcessor implements SpanProcessor {
  private readonly rootOf = new Map<string, string>();
  private readonly held = new Map<string, ReadableSpan[]>();
  /** Recently decided roots, for children that end after their root (bounded FIFO). */
  private readonly decided = new Map<string, boolean>();
  /** Insertion order of `decided`, as a ring: evicting through a Map iterator per span showed in profiles. */
  private readonly decidedOrder: string[] = new Array<string>(DECIDED_MAX).fill('');
  private decidedNext = 0;
  readonly counters: DecisionCounters = { kept: 0, discarded: 0, overflow: 0 };

  constructor(
    private readonly next: SpanProcessor,
    private readonly maxChildren = 128,
    private readonly maxRoots = 10000,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    const id = span.spanContext().spanId;
    const parent = trace.getSpanContext(parentContext);
    const parentRoot = parent && !parent.isRemote ? this.rootOf.get(parent.spanId) : undefined;
    if (parentRoot !== undefined) {
      this.rootOf.set(id, parentRoot);
    } else if (this.rootOf.size < this.maxRoots * 4) {
      this.rootOf.set(id, id);
      this.held.set(id, []);
    }
    // Past the bound the span is untracked and decided alone at its end.
  }

  onEnd(span: ReadableSpan): void {
    const id = span.spanContext().spanId;
    const root = this.rootOf.get(id);
    this.rootOf.delete(id);
    if (root === undefined || root === id) {
      const kept = span.attributes[KEPT_BY] !== undefined;
      const batch = [...(this.held.get(id) ?? []), span];
      this.held.delete(id);
      this.remember(id, kept);
      if (kept) {
        this.counters.kept += batch.length;
        for (const s of batch) this.next.onEnd(s);
      } else {
        this.counters.discarded += batch.length;
      }
      return;
    }
    const buffer = this.held.get(root);
    if (buffer === undefined) {
      // Root already ended: follow its decision if still remembered.
      if (this.decided.get(root)) {
        this.counters.kept++;
        this.next.onEnd(span);
      } else this.counters.discarded++;
    } else if (buffer.length >= this.maxChildren) {
      this.counters.overflow++;
    } else {
      buffer.push(span);
    }
  }

  /**
   * Spans already decided as kept by their host (which held them itself): forwarded together
   * and counted as kept, without the per-span bookkeeping above.
   */
  forwardKept(spans: readonly ReadableSpan[]): void {
    this.counters.kept += spans.length;
    for (const s of spans) this.next.onEnd(s);
  }

  private remember(root: string, kept: boolean): void {
    if (this.decided.has(root)) {
      this.decided.set(root, kept);
      return;
    }
    const oldest = this.decidedOrder[this.decidedNext]!;
    if (oldest !== '') this.decided.delete(oldest);
    this.decidedOrder[this.decidedNext] = root;
    this.decidedNext = (this.decidedNext + 1) % DECIDED_MAX;
    this.decided.set(root, kept);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}
