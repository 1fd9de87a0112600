// RED metrics in the Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE`
// once per family, label values escaped (backslash, double quote, line feed), histogram as
// `_bucket{le="…"}` cumulative series ending in le="+Inf", then `_sum` and `_count`.
import type { RedMetrics } from './red-metrics.ts';

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12))));

export function prometheusText(red: RedMetrics): string {
  const lines: string[] = [];
  const labels = (service: string, operation: string, extra = '') =>
    `{service="${escapeLabel(service)}",operation="${escapeLabel(operation)}"${extra}}`;
  lines.push('# HELP meshtrace_requests_total Requests handled (entry spans), adjusted for sampling.');
  lines.push('# TYPE meshtrace_requests_total counter');
  for (const m of red.metrics)
    lines.push(`meshtrace_requests_total${labels(m.service, m.operation)} ${num(m.requests)}`);
  lines.push('# HELP meshtrace_request_errors_total Failed requests, adjusted for sampling.');
  lines.push('# TYPE meshtrace_request_errors_total counter');
  for (const m of red.metrics)
    lines.push(`meshtrace_request_errors_total${labels(m.service, m.operation)} ${num(m.errors)}`);
  lines.push('# HELP meshtrace_request_duration_seconds Request duration, adjusted for sampling.');
  lines.push('# TYPE meshtrace_request_duration_seconds histogram');
  for (const m of red.metrics) {
    m.bucketsS.forEach((le, i) => {
      lines.push(
        `meshtrace_request_duration_seconds_bucket${labels(m.service, m.operation, `,le="${num(le)}"`)} ${num(m.bucketCounts[i]!)}`,
      );
    });
    lines.push(
      `meshtrace_request_duration_seconds_bucket${labels(m.service, m.operation, ',le="+Inf"')} ${num(m.requests)}`,
    );
    lines.push(`meshtrace_request_duration_seconds_sum${labels(m.service, m.operation)} ${num(m.durationSumS)}`);
    lines.push(`meshtrace_request_duration_seconds_count${labels(m.service, m.operation)} ${num(m.requests)}`);
  }
  return `${lines.join('\n')}\n`;
}
