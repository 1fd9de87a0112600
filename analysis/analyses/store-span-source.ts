// A SpanSource over the collector's store (or any TraceReader, such as a Jaeger query API
// reader): whole traces whose first span starts in the queried window, so trace analyses
// never see half a trace. The service filter is applied to the traces' spans afterwards.
import type { TraceReader } from '../store/trace-store.ts';
import type { SpanBatch, SpanQuery, SpanSource } from './span-source.ts';

export class StoreSpanSource implements SpanSource {
  constructor(
    private readonly reader: TraceReader,
    private readonly label = 'trace store',
    private readonly limitSpans = 2_000_000,
  ) {}

  describe(): string {
    return this.label;
  }

  async readSpans(query: SpanQuery = {}): Promise<SpanBatch> {
    const { spans, truncatedTraces } = await this.reader.spansInWindow({
      startUs: query.startUs ?? 0,
      endUs: query.endUs ?? Number.MAX_SAFE_INTEGER,
      limitSpans: this.limitSpans,
    });
    const problems =
      truncatedTraces > 0
        ? [`${this.label}: ${truncatedTraces} traces left out (more than ${this.limitSpans} spans)`]
        : [];
    return { spans: query.service === undefined ? spans : spans.filter((s) => s.service === query.service), problems };
  }
}
