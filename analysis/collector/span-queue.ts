// The bounded hand-off between receivers and the store. Receivers offer whole requests (all or
// nothing, so a refused request can be retried without duplicates); one pump writes batches to the
// store in arrival order. Memory is bounded by `capacitySpans` (a single request larger than the
// capacity is admitted only into an empty queue — the request size limit still bounds it).
import type { Span } from '../model.ts';

export interface SpanQueueCounters {
  /** Spans handed to the store successfully. */
  spansStored: number;
  /** Spans accepted from clients but lost because the store failed (counted, never thrown). */
  spansLost: number;
  /** Store write failures. */
  storeErrors: number;
}

export class SpanQueue {
  private items: Span[][] = [];
  private depthSpans = 0;
  private pumping: Promise<void> | null = null;
  readonly counters: SpanQueueCounters = { spansStored: 0, spansLost: 0, storeErrors: 0 };

  constructor(
    readonly capacitySpans: number,
    private readonly maxBatchSpans: number,
    private readonly sink: (batch: Span[]) => Promise<void>,
    private readonly onStoreError: (err: unknown, lost: number) => void,
  ) {}

  get depth(): number {
    return this.depthSpans;
  }

  /** True when no request of any size would be admitted now. */
  get full(): boolean {
    return this.depthSpans >= this.capacitySpans;
  }

  /** Admits the spans whole or refuses them (false) when they do not fit. */
  offer(spans: Span[]): boolean {
    if (spans.length === 0) return true;
    if (this.depthSpans > 0 && this.depthSpans + spans.length > this.capacitySpans) return false;
    this.items.push(spans);
    this.depthSpans += spans.length;
    if (this.pumping === null) this.pumping = this.pump();
    return true;
  }

  /** Resolves once everything offered so far has been written (or counted lost). */
  async drained(): Promise<void> {
    while (this.pumping !== null) await this.pumping;
  }

  private takeBatch(): Span[] {
    const first = this.items.shift() as Span[];
    if (this.items.length === 0 || first.length >= this.maxBatchSpans) return first;
    const batch = first.slice();
    while (this.items.length > 0 && batch.length + (this.items[0] as Span[]).length <= this.maxBatchSpans) {
      for (const s of this.items.shift() as Span[]) batch.push(s);
    }
    return batch;
  }

  private async pump(): Promise<void> {
    // yield once so requests arriving in the same tick join the first batch
    await new Promise<void>((r) => setImmediate(r));
    while (this.items.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.sink(batch);
        this.counters.spansStored += batch.length;
      } catch (err) {
        this.counters.spansLost += batch.length;
        this.counters.storeErrors++;
        this.onStoreError(err, batch.length);
      } finally {
        this.depthSpans -= batch.length;
      }
    }
    this.pumping = null;
  }
}
