// Error rate per service: failing spans / spans, counting only the service's entry spans
// (server and consumer) — one per request handled — plus roots of any kind, so a request is
// not counted once per internal step. `originated` counts the failures not explained by a
// failing child span (the error-origin rule of error-origin.ts), i.e. the service's own.
import type { Span } from '../model.ts';
import { spanFailed } from './span-failed.ts';

export interface ServiceErrorRate {
  service: string;
  requests: number;
  errors: number;
  rate: number;
  /** Failures with no failing child: this service's own. */
  originated: number;
}

export const isEntrySpan = (s: Span): boolean =>
  s.kind === 'server' || s.kind === 'consumer' || s.parentSpanId === null;

export function errorRates(spans: readonly Span[]): ServiceErrorRate[] {
  const failedParents = new Set<string>();
  for (const s of spans)
    if (s.parentSpanId !== null && spanFailed(s)) failedParents.add(`${s.traceId}/${s.parentSpanId}`);
  const by = new Map<string, ServiceErrorRate>();
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    let e = by.get(s.service);
    if (!e) {
      e = { service: s.service, requests: 0, errors: 0, rate: 0, originated: 0 };
      by.set(s.service, e);
    }
    e.requests++;
    if (spanFailed(s)) {
      e.errors++;
      if (!failedParents.has(`${s.traceId}/${s.spanId}`)) e.originated++;
    }
  }
  for (const e of by.values()) e.rate = e.requests ? e.errors / e.requests : 0;
  return [...by.values()].sort((a, b) => b.rate - a.rate || a.service.localeCompare(b.service));
}
