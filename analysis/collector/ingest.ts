// What both receivers do with a decoded request (otlp/decode-spans.ts: spans validated one by one,
// the invalid ones counted with reasons): offer the valid spans to the queue. The answer tells the
// receiver which OTLP response to send.
import type { Conversion } from '../otlp/to-spans.ts';
import type { SpanQueue } from './span-queue.ts';

export interface IngestCounters {
  spansReceived: number;
  spansAccepted: number;
  /** Invalid spans reported back through partial_success. */
  spansRejected: number;
  /** Valid spans refused with a retry hint because the queue was full. */
  spansRefused: number;
  requestsRefused: number;
}

export type IngestResult = { kind: 'accepted'; rejected: number; errorMessage: string } | { kind: 'busy' };

export function newIngestCounters(): IngestCounters {
  return { spansReceived: 0, spansAccepted: 0, spansRejected: 0, spansRefused: 0, requestsRefused: 0 };
}

/** Cheap pre-check before decoding: refuse at once while the queue cannot take anything. */
export function busy(queue: SpanQueue, counters: IngestCounters): boolean {
  if (!queue.full) return false;
  counters.requestsRefused++;
  return true;
}

export function ingest(c: Conversion, queue: SpanQueue, counters: IngestCounters): IngestResult {
  if (!queue.offer(c.spans)) {
    counters.requestsRefused++;
    counters.spansRefused += c.spans.length;
    return { kind: 'busy' };
  }
  counters.spansReceived += c.spans.length + c.rejected;
  counters.spansAccepted += c.spans.length;
  counters.spansRejected += c.rejected;
  return { kind: 'accepted', rejected: c.rejected, errorMessage: c.errorMessage };
}
