// One rule against the spans of its window. Pure: the engine (alert-engine.ts) supplies the
// window's spans and, for new_error_pattern, the templates known from before.
import type { Span } from '../../model.ts';
import { errorMessageOf } from '../error-origin.ts';
import { isEntrySpan } from '../error-rates.ts';
import { errorTemplate } from '../error-template.ts';
import { spanFailed } from '../span-failed.ts';
import { percentileOfSorted } from '../stats/percentiles.ts';
import type { AlertRule } from './rules.ts';

export interface RuleEvaluation {
  firing: boolean;
  value: number | null; // the measured quantity (rate, µs, count of requests, count of new templates)
  summary: string;
  /** new_error_pattern: templates seen in this window (new or not), for the engine to learn. */
  templates?: Map<string, number>; // template → first time seen in the window
}

const fmtMs = (us: number) => `${(us / 1000).toFixed(1)} ms`;

export function evaluateRule(
  rule: AlertRule,
  windowSpans: readonly Span[],
  knownTemplates: ReadonlySet<string>,
): RuleEvaluation {
  const mine = (s: Span) =>
    (rule.service === null || s.service === rule.service) && (rule.operation === null || s.name === rule.operation);
  const where = `${rule.service ?? 'all services'}${rule.operation ? `/${rule.operation}` : ''}`;
  if (rule.kind === 'new_error_pattern') {
    const failedParents = new Set<string>();
    for (const s of windowSpans)
      if (s.parentSpanId !== null && spanFailed(s)) failedParents.add(`${s.traceId}/${s.parentSpanId}`);
    const templates = new Map<string, number>();
    for (const s of windowSpans) {
      if (!mine(s) || !spanFailed(s) || failedParents.has(`${s.traceId}/${s.spanId}`)) continue;
      const tpl = `${s.service}: ${errorTemplate(errorMessageOf(s) || '(no message)')}`;
      templates.set(tpl, Math.min(templates.get(tpl) ?? Number.POSITIVE_INFINITY, s.endUs));
    }
    const fresh = [...templates.keys()].filter((t) => !knownTemplates.has(t)).sort();
    return {
      firing: fresh.length > 0,
      value: fresh.length,
      summary: fresh.length
        ? `new error pattern(s) in ${where}: ${fresh.slice(0, 5).join(' | ')}`
        : `no new error patterns in ${where}`,
      templates,
    };
  }
  const entries = windowSpans.filter((s) => isEntrySpan(s) && mine(s));
  if (rule.kind === 'absence') {
    return {
      firing: entries.length === 0,
      value: entries.length,
      summary: `${entries.length} requests to ${where} in the window`,
    };
  }
  if (entries.length < rule.minRequests) {
    return {
      firing: false,
      value: null,
      summary: `${entries.length} requests to ${where}, fewer than minRequests ${rule.minRequests}`,
    };
  }
  if (rule.kind === 'error_rate') {
    const errors = entries.filter(spanFailed).length;
    const rate = errors / entries.length;
    return {
      firing: rate > rule.above,
      value: rate,
      summary: `error rate of ${where} ${(rate * 100).toFixed(1)} % (${errors}/${entries.length}), threshold ${(rule.above * 100).toFixed(1)} %`,
    };
  }
  const sorted = entries.map((s) => s.endUs - s.startUs).sort((a, b) => a - b);
  const p = percentileOfSorted(sorted, rule.percentile);
  return {
    firing: p > rule.above,
    value: p,
    summary: `p${rule.percentile} latency of ${where} ${fmtMs(p)}, threshold ${fmtMs(rule.above)}`,
  };
}
