// Failures grouped by message template (see error-template.ts), per service and operation of
// the origin span, with counts, first/last sight and one untouched example.
import type { Span } from '../model.ts';
import { errorMessageOf } from './error-origin.ts';
import { errorTemplate } from './error-template.ts';
import { spanFailed } from './span-failed.ts';

export interface ErrorPattern {
  template: string;
  service: string;
  operation: string;
  count: number;
  traces: number;
  firstSeenUs: number;
  lastSeenUs: number;
  example: string;
}

const MAX_PATTERNS = 10_000; // bounded memory: rarer patterns beyond this are counted in `dropped`

export interface ErrorPatterns {
  patterns: ErrorPattern[];
  dropped: number;
}

/**
 * Patterns of failing spans not explained by a failing child (their own failure; the
 * "upstream failed" wrappers of their ancestors would only echo them). Exception events'
 * `exception.stacktrace` is used when the status message is empty.
 */
export function errorPatterns(spans: readonly Span[]): ErrorPatterns {
  const failedParents = new Set<string>();
  for (const s of spans)
    if (s.parentSpanId !== null && spanFailed(s)) failedParents.add(`${s.traceId}/${s.parentSpanId}`);
  const by = new Map<string, ErrorPattern & { traceIds: Set<string> }>();
  let dropped = 0;
  for (const s of spans) {
    if (!spanFailed(s) || failedParents.has(`${s.traceId}/${s.spanId}`)) continue;
    let message = errorMessageOf(s);
    if (!message) {
      const st = s.events.find((e) => e.name === 'exception')?.attributes['exception.stacktrace'];
      message = typeof st === 'string' ? st : '(no message)';
    }
    const template = errorTemplate(message);
    const key = `${s.service}\u0000${s.name}\u0000${template}`;
    let p = by.get(key);
    if (!p) {
      if (by.size >= MAX_PATTERNS) {
        dropped++;
        continue;
      }
      p = {
        template,
        service: s.service,
        operation: s.name,
        count: 0,
        traces: 0,
        firstSeenUs: s.endUs,
        lastSeenUs: s.endUs,
        example: message.slice(0, 500),
        traceIds: new Set(),
      };
      by.set(key, p);
    }
    p.count++;
    p.traceIds.add(s.traceId);
    p.firstSeenUs = Math.min(p.firstSeenUs, s.endUs);
    p.lastSeenUs = Math.max(p.lastSeenUs, s.endUs);
  }
  const patterns = [...by.values()]
    .map(({ traceIds, ...p }) => ({ ...p, traces: traceIds.size }))
    .sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
  return { patterns, dropped };
}
