// Alert rules from YAML. One clear error path: every problem is collected with the path of
// the offending field ("rules[2].above: …") and reported together, so a broken file is fixed
// in one pass.
//
//   evaluationInterval: 30s          # how often rules are evaluated (default 30s, ≥ 100ms)
//   webhook:
//     url: http://alerts.local/hook  # receives POSTed JSON notifications (required)
//     timeout: 5s                    # per delivery (default 5s)
//   rules:
//     - name: bank-errors            # unique
//       kind: error_rate             # error_rate | latency_percentile | absence | new_error_pattern
//       service: bank                # required except for new_error_pattern (optional filter)
//       operation: authorize         # optional
//       window: 1m                   # spans starting in [now − window, now) (default 5m)
//       above: 0.05                  # error_rate: rate in [0, 1]; latency_percentile: a duration
//       percentile: 99               # latency_percentile only, (0, 100]
//       minRequests: 10              # error_rate / latency_percentile: fewer requests never fire (default 1)
//
// Durations: a number with unit ms, s, m or h ("250ms", "1.5s", "5m").
import { parseDocument } from 'yaml';

export type AlertKind = 'error_rate' | 'latency_percentile' | 'absence' | 'new_error_pattern';

export interface AlertRule {
  name: string;
  kind: AlertKind;
  service: string | null;
  operation: string | null;
  windowUs: number;
  /** error_rate: a rate; latency_percentile: µs; unused otherwise. */
  above: number;
  percentile: number;
  minRequests: number;
}

export interface AlertConfig {
  evaluationIntervalMs: number;
  webhook: { url: string; timeoutMs: number };
  rules: AlertRule[];
}

export class AlertConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid alert rules:\n  ${problems.join('\n  ')}`);
  }
}

const UNIT_US: Record<string, number> = { ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };
const KINDS: AlertKind[] = ['error_rate', 'latency_percentile', 'absence', 'new_error_pattern'];

/** "250ms" → 250000 µs; null when not a positive duration with a unit. */
export function parseDurationUs(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v);
  if (!m) return null;
  const us = Number(m[1]) * UNIT_US[m[2]!]!;
  return us > 0 ? us : null;
}

export function parseAlertRules(text: string, source = 'alert rules'): AlertConfig {
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new AlertConfigError(
      source,
      doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`),
    );
  const root: unknown = doc.toJS();
  const problems: string[] = [];
  if (typeof root !== 'object' || root === null || Array.isArray(root))
    throw new AlertConfigError(source, ['top level must be a mapping']);
  const r = root as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!['evaluationInterval', 'webhook', 'rules'].includes(k)) problems.push(`${k}: unknown field`);

  const intervalUs = r.evaluationInterval === undefined ? 30e6 : parseDurationUs(r.evaluationInterval);
  if (intervalUs === null || intervalUs < 100e3)
    problems.push('evaluationInterval: must be a duration ≥ 100ms such as "30s"');

  const wh = r.webhook as Record<string, unknown> | undefined;
  let url = '';
  let timeoutUs: number | null = 5e6;
  if (typeof wh !== 'object' || wh === null) problems.push('webhook: required, a mapping with url');
  else {
    if (typeof wh.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(wh.url))
      problems.push('webhook.url: must be an http:// or https:// URL');
    else url = wh.url;
    if (wh.timeout !== undefined) timeoutUs = parseDurationUs(wh.timeout);
    if (timeoutUs === null) problems.push('webhook.timeout: must be a duration such as "5s"');
  }

  const rules: AlertRule[] = [];
  if (!Array.isArray(r.rules) || r.rules.length === 0) problems.push('rules: required, a non-empty list');
  else {
    const names = new Set<string>();
    r.rules.forEach((raw: unknown, i: number) => {
      const at = `rules[${i}]`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        problems.push(`${at}: must be a mapping`);
        return;
      }
      const x = raw as Record<string, unknown>;
      const before = problems.length;
      for (const k of Object.keys(x)) {
        if (!['name', 'kind', 'service', 'operation', 'window', 'above', 'percentile', 'minRequests'].includes(k))
          problems.push(`${at}.${k}: unknown field`);
      }
      if (typeof x.name !== 'string' || x.name === '') problems.push(`${at}.name: required string`);
      else if (names.has(x.name)) problems.push(`${at}.name: "${x.name}" is used twice`);
      else names.add(x.name);
      const kind = x.kind as AlertKind;
      if (!KINDS.includes(kind)) problems.push(`${at}.kind: must be one of ${KINDS.join(', ')}`);
      if (x.service !== undefined && typeof x.service !== 'string') problems.push(`${at}.service: must be a string`);
      if (x.service === undefined && kind !== 'new_error_pattern' && KINDS.includes(kind))
        problems.push(`${at}.service: required for ${kind}`);
      if (x.operation !== undefined && typeof x.operation !== 'string')
        problems.push(`${at}.operation: must be a string`);
      const windowUs = x.window === undefined ? 300e6 : parseDurationUs(x.window);
      if (windowUs === null) problems.push(`${at}.window: must be a duration such as "5m"`);
      let above = 0;
      if (kind === 'error_rate') {
        if (typeof x.above !== 'number' || !(x.above >= 0 && x.above <= 1))
          problems.push(`${at}.above: error_rate threshold must be a number in [0, 1]`);
        else above = x.above;
      } else if (kind === 'latency_percentile') {
        const d = parseDurationUs(x.above);
        if (d === null) problems.push(`${at}.above: latency threshold must be a duration such as "250ms"`);
        else above = d;
      }
      let percentile = 99;
      if (x.percentile !== undefined) {
        if (kind !== 'latency_percentile') problems.push(`${at}.percentile: only for latency_percentile`);
        else if (typeof x.percentile !== 'number' || !(x.percentile > 0 && x.percentile <= 100))
          problems.push(`${at}.percentile: must be in (0, 100]`);
        else percentile = x.percentile;
      }
      const minRequests = x.minRequests === undefined ? 1 : x.minRequests;
      if (typeof minRequests !== 'number' || !Number.isInteger(minRequests) || minRequests < 1)
        problems.push(`${at}.minRequests: must be an integer ≥ 1`);
      if (problems.length > before) return;
      rules.push({
        name: x.name as string,
        kind,
        service: (x.service as string | undefined) ?? null,
        operation: (x.operation as string | undefined) ?? null,
        windowUs: windowUs!,
        above,
        percentile,
        minRequests: minRequests as number,
      });
    });
  }
  if (problems.length) throw new AlertConfigError(source, problems);
  return { evaluationIntervalMs: intervalUs! / 1e3, webhook: { url, timeoutMs: timeoutUs! / 1e3 }, rules };
}
