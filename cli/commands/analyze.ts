// `meshtrace analyze <analysis> --input <dir|file> [--json]` — the trace analyses over spans
// read through a SpanSource: generator output / JSON span files (--input), or the collector's
// DuckDB store (--store <data dir>). Tables by default, JSON with --json. Traces or records
// that cannot be used are reported on stderr and the analysis goes on without them.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AlertEngine } from '../../analysis/analyses/alerts/alert-engine.ts';
import { parseAlertRules } from '../../analysis/analyses/alerts/rules.ts';
import type { TraceError } from '../../analysis/analyses/batch.ts';
import { spansByTrace } from '../../analysis/analyses/batch.ts';
import { bottlenecks } from '../../analysis/analyses/bottlenecks.ts';
import { capacity } from '../../analysis/analyses/capacity.ts';
import { criticalPath } from '../../analysis/analyses/critical-path.ts';
import { dependencyMap } from '../../analysis/analyses/dependency-map.ts';
import { errorOrigins } from '../../analysis/analyses/error-origin.ts';
import { errorPatterns } from '../../analysis/analyses/error-patterns.ts';
import { errorRates } from '../../analysis/analyses/error-rates.ts';
import { latencyBreakdown } from '../../analysis/analyses/latency-breakdown.ts';
import { latencyCorrelations } from '../../analysis/analyses/latency-correlations.ts';
import { prometheusText } from '../../analysis/analyses/prometheus-text.ts';
import { recoveryTimes } from '../../analysis/analyses/recovery-times.ts';
import { redMetrics } from '../../analysis/analyses/red-metrics.ts';
import { type RegressionSplit, regressions } from '../../analysis/analyses/regressions.ts';
import { FileSpanSource, MemorySpanSource, type SpanSource } from '../../analysis/analyses/span-source.ts';
import { StoreSpanSource } from '../../analysis/analyses/store-span-source.ts';
import type { Span } from '../../analysis/model.ts';

export const summary =
  'run a trace analysis (critical-path, bottlenecks, errors, regressions, red, …) on span files or the store';

type Options = Record<string, string | boolean | undefined>;

interface Output {
  json: unknown;
  table: string;
  errors?: TraceError[];
}

interface Analysis {
  summary: string;
  run(spans: Span[], o: Options): Output | Promise<Output>;
}

class UsageError extends Error {}

const ms = (us: number | null | undefined) =>
  us === null || us === undefined || Number.isNaN(us) ? '-' : (us / 1000).toFixed(1);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const iso = (us: number | null) => (us === null ? '-' : new Date(us / 1000).toISOString());

// Columns whose every cell is a number (or "-") are right-aligned, the rest left-aligned.
function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = head.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^(-|[-+]?[\d.,]+(e[-+]?\d+)?%?)$/.test(String(r[i]))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  if (rows.length === 0) return `${line(head)}\n(none)`;
  return [line(head), ...cells.slice(1).map(line)].join('\n');
}

/** "1.5s", "250ms", "2m" → µs. */
function durationArg(name: string, v: string | boolean | undefined, def: number): number {
  if (v === undefined) return def;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v) : null;
  if (!m) throw new UsageError(`--${name} must be a duration such as 1s or 250ms, got "${v}"`);
  return Number(m[1]) * { ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function numberArg(name: string, v: string | boolean | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

/** An ISO time or µs since the epoch. */
function timeArg(name: string, v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`--${name}: "${v}" is neither an ISO time nor µs since the epoch`);
  return t * 1000;
}

function windowArg(name: string, v: string): { startUs: number; endUs: number } {
  const [a, b, ...rest] = v.split('..');
  if (a === undefined || b === undefined || rest.length)
    throw new UsageError(`--${name} must be START..END, got "${v}"`);
  return { startUs: timeArg(name, a), endUs: timeArg(name, b) };
}

const ANALYSES: Record<string, Analysis> = {
  dependencies: {
    summary: 'service dependency map: calls, error rate, p50/p95/p99 per caller → callee',
    run(spans) {
      const edges = dependencyMap(spans);
      return {
        json: edges,
        table: table(
          ['caller → callee', 'calls', 'errors', 'p50 ms', 'p95 ms', 'p99 ms'],
          edges.map((e) => [
            `${e.caller} → ${e.callee}`,
            e.calls,
            pct(e.errorRate),
            ms(e.p50Us),
            ms(e.p95Us),
            ms(e.p99Us),
          ]),
        ),
      };
    },
  },
  latency: {
    summary: 'latency breakdown per service/operation: total and self time percentiles',
    run(spans) {
      const r = latencyBreakdown(spans);
      return {
        json: r.value,
        errors: r.errors,
        table: table(
          ['service/operation', 'count', 'self p50', 'self p95', 'self p99', 'total p50', 'total p95', 'total p99'],
          r.value.map((o) => [
            `${o.service}/${o.operation}`,
            o.count,
            ms(o.selfUs.p50),
            ms(o.selfUs.p95),
            ms(o.selfUs.p99),
            ms(o.totalUs.p50),
            ms(o.totalUs.p95),
            ms(o.totalUs.p99),
          ]),
        ),
      };
    },
  },
  'critical-path': {
    summary: 'critical path of one trace (--trace ID; default: the slowest trace)',
    run(spans, o) {
      const traces = spansByTrace(spans);
      let id = typeof o.trace === 'string' ? o.trace : undefined;
      if (id === undefined) {
        let longest = -1;
        for (const s of spans) {
          if (s.parentSpanId === null && s.endUs - s.startUs > longest) {
            longest = s.endUs - s.startUs;
            id = s.traceId;
          }
        }
      }
      const trace = id === undefined ? undefined : traces.get(id);
      if (!trace)
        throw new UsageError(
          id === undefined ? 'no trace with a root span in the input' : `trace ${id} is not in the input`,
        );
      const r = criticalPath(trace);
      if (!r.ok)
        return { json: { traceId: id, error: r.reason }, table: '', errors: [{ traceId: id!, reason: r.reason }] };
      const total = r.value.endUs - r.value.startUs;
      return {
        json: r.value,
        table: `trace ${r.value.traceId}, ${ms(total)} ms\n${table(
          ['service/operation', 'from ms', 'to ms', 'ms', 'share'],
          r.value.sections.map((s) => [
            `${s.service}/${s.name}`,
            ms(s.startUs - r.value.startUs),
            ms(s.endUs - r.value.startUs),
            ms(s.endUs - s.startUs),
            pct((s.endUs - s.startUs) / total),
          ]),
        )}`,
      };
    },
  },
  bottlenecks: {
    summary: 'operations ranked by their share of critical-path time over all traces',
    run(spans, o) {
      const r = bottlenecks(spans);
      const top = numberArg('top', o.top, 20);
      return {
        json: r.value,
        errors: r.errors,
        table: table(
          ['#', 'service/operation', 'share', 'traces', 'mean ms/trace'],
          r.value
            .slice(0, top)
            .map((b, i) => [
              String(i + 1),
              `${b.service}/${b.operation}`,
              pct(b.share),
              b.traces,
              ms(b.meanUsPerTrace),
            ]),
        ),
      };
    },
  },
  'error-origins': {
    summary: 'for each failed trace: the span where the error started and its path to the root',
    run(spans) {
      const r = errorOrigins(spans);
      const counts = new Map<string, number>();
      for (const e of r.value)
        if (e.origin)
          counts.set(
            `${e.origin.service}/${e.origin.name}`,
            (counts.get(`${e.origin.service}/${e.origin.name}`) ?? 0) + 1,
          );
      const rows = [...counts].sort((a, b) => b[1] - a[1]);
      return {
        json: r.value,
        errors: r.errors,
        table: `${r.value.length} failed traces\n${table(
          ['origin', 'traces', 'example path'],
          rows.map(([origin, n]) => {
            const ex = r.value.find((e) => e.origin && `${e.origin.service}/${e.origin.name}` === origin)!;
            const services = ex.propagationPath.map((p) => p.service).filter((svc, i, all) => svc !== all[i - 1]);
            return [origin, n, services.join(' → ')];
          }),
        )}`,
      };
    },
  },
  'error-rates': {
    summary: 'error rate per service and how many failures it originated',
    run(spans) {
      const rates = errorRates(spans);
      return {
        json: rates,
        table: table(
          ['service', 'requests', 'errors', 'rate', 'originated'],
          rates.map((r) => [r.service, r.requests, r.errors, pct(r.rate), r.originated]),
        ),
      };
    },
  },
  'error-patterns': {
    summary: 'failures grouped by normalised message template',
    run(spans) {
      const r = errorPatterns(spans);
      return {
        json: r,
        table: table(
          ['service/operation', 'count', 'traces', 'template'],
          r.patterns.map((p) => [`${p.service}/${p.operation}`, p.count, p.traces, p.template]),
        ),
      };
    },
  },
  recovery: {
    summary: 'error-rate breaches per service and the time to recover (--window 1s --threshold 0.1)',
    run(spans, o) {
      const r = recoveryTimes(spans, {
        windowUs: durationArg('window', o.window, 1e6),
        threshold: numberArg('threshold', o.threshold, 0.1),
      });
      const rows = r.flatMap((s) =>
        s.episodes.map((e) => [
          s.service,
          iso(e.startUs),
          iso(e.endUs),
          e.durationUs === null ? 'ongoing' : ms(e.durationUs),
          pct(e.peakRate),
        ]),
      );
      return { json: r, table: table(['service', 'breach from', 'recovered at', 'ms', 'peak'], rows) };
    },
  },
  regressions: {
    summary:
      'latency changes per operation: --from-version A --to-version B, or --from-window/--to-window S..E, or --split-at T',
    run(spans, o) {
      let split: RegressionSplit;
      if (typeof o['from-version'] === 'string' && typeof o['to-version'] === 'string')
        split = { by: 'version', from: o['from-version'], to: o['to-version'] };
      else if (typeof o['from-window'] === 'string' && typeof o['to-window'] === 'string')
        split = {
          by: 'window',
          from: windowArg('from-window', o['from-window']),
          to: windowArg('to-window', o['to-window']),
        };
      else if (typeof o['split-at'] === 'string') {
        const at = timeArg('split-at', o['split-at']);
        split = {
          by: 'window',
          from: { startUs: Number.MIN_SAFE_INTEGER, endUs: at },
          to: { startUs: at, endUs: Number.MAX_SAFE_INTEGER },
        };
      } else
        throw new UsageError(
          'regressions needs --from-version and --to-version, --from-window and --to-window, or --split-at',
        );
      const r = regressions(spans, split, {
        alpha: numberArg('alpha', o.alpha, 0.01),
        minEffect: numberArg('min-effect', o['min-effect'], 0.2),
      });
      return {
        json: r,
        table: `${r.compared} operations compared, ${r.changes.length} changed\n${table(
          ['service/operation', 'change', 'median from', 'median to', 'ratio', "Cliff's δ", 'p'],
          r.changes.map((c) => [
            `${c.service}/${c.operation}`,
            c.direction,
            ms(c.fromMedianUs),
            ms(c.toMedianUs),
            c.medianRatio.toFixed(2),
            c.cliffsDelta.toFixed(2),
            c.p.toExponential(1),
          ]),
        )}`,
      };
    },
  },
  red: {
    summary: 'RED metrics per service/operation, sampling-adjusted, in Prometheus text format',
    run(spans) {
      const red = redMetrics(spans);
      return { json: red, table: prometheusText(red).trimEnd() };
    },
  },
  capacity: {
    summary: 'throughput vs latency per service and the knee where latency climbs',
    run(spans, o) {
      const r = capacity(spans, { windowUs: durationArg('window', o.window, 1e6) });
      return {
        json: r,
        table: table(
          ['service', 'knee req/s', 'p95 at knee', 'max req/s', 'p95 at max'],
          r.map((c) => {
            const last = c.points[c.points.length - 1];
            return [
              c.service,
              c.knee ? c.knee.throughputPerS.toFixed(0) : '-',
              c.knee ? ms(c.knee.p95Us) : '-',
              last ? last.throughputPerS.toFixed(0) : '-',
              last ? ms(last.p95Us) : '-',
            ];
          }),
        ),
      };
    },
  },
  correlations: {
    summary: 'numeric attributes whose values move with latency (Spearman)',
    run(spans) {
      const r = latencyCorrelations(spans);
      return {
        json: r,
        table: table(
          ['service/operation', 'attribute', 'rho', 'samples'],
          r.map((c) => [`${c.service}/${c.operation}`, c.attribute, c.rho.toFixed(2), c.samples]),
        ),
      };
    },
  },
  alerts: {
    summary:
      'evaluate alert rules (--rules file.yaml) once at --now (default: end of the data), or --watch on their schedule; notifies the webhook',
    async run(spans, o) {
      if (typeof o.rules !== 'string') throw new UsageError('alerts needs --rules <file.yaml>');
      const config = parseAlertRules(readFileSync(o.rules, 'utf8'), o.rules);
      let end = 0;
      for (const s of spans) end = Math.max(end, s.startUs + 1);
      const now = typeof o.now === 'string' ? timeArg('now', o.now) : end;
      const source = new MemorySpanSource();
      source.replace(spans);
      const engine = new AlertEngine(config, source, () => now);
      await engine.evaluate();
      const rows = config.rules.map((r) => {
        const st = engine.state(r.name)!;
        return [r.name, st.firing ? 'FIRING' : 'ok', st.last?.summary ?? ''];
      });
      const d = engine.notifier.deliveryStats();
      return {
        json: { rules: config.rules.map((r) => engine.state(r.name)), delivery: d },
        table: `${table(['rule', 'state', 'detail'], rows)}\nwebhook: ${d.delivered} delivered, ${d.pending} pending${engine.notifier.lastError ? ` (${engine.notifier.lastError})` : ''}`,
      };
    },
  },
};

const USAGE = `usage: meshtrace analyze <analysis> (--input <dir|file> | --store <data dir>) [--json] [options]

analyses:
${Object.entries(ANALYSES)
  .map(([n, a]) => `  ${n.padEnd(15)} ${a.summary}`)
  .join('\n')}

input:
  --input PATH     spans.jsonl / *.json files (generator output) or a directory of them
  --store DIR      the collector's DuckDB data directory
  --from/--to T    only spans starting in [from, to) (ISO time or µs)
  --service NAME   only spans of this service`;

async function openSource(o: Options): Promise<{ source: SpanSource; close(): Promise<void> }> {
  if (typeof o.input === 'string') return { source: new FileSpanSource(o.input), close: async () => {} };
  if (typeof o.store === 'string') {
    const { openDuckDBStore } = await import('../../analysis/store/duckdb-store.ts');
    const store = await openDuckDBStore({ dataDir: o.store });
    return { source: new StoreSpanSource(store, `store at ${o.store}`), close: () => store.close() };
  }
  throw new UsageError('--input <dir|file> or --store <data dir> is required');
}

const STRING_OPTIONS = [
  'input',
  'store',
  'from',
  'to',
  'service',
  'trace',
  'top',
  'window',
  'threshold',
  'from-version',
  'to-version',
  'from-window',
  'to-window',
  'split-at',
  'alpha',
  'min-effect',
  'rules',
  'now',
];
const PARSE_OPTIONS: Record<string, { type: 'string' | 'boolean' }> = {
  ...Object.fromEntries(STRING_OPTIONS.map((k) => [k, { type: 'string' as const }])),
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
};

// `analyze alerts --rules f.yaml --watch`: evaluate on the rules' schedule against the source
// with the wall clock, notifying the webhook, until SIGINT/SIGTERM.
async function watchAlerts(source: SpanSource, o: Options): Promise<void> {
  if (typeof o.rules !== 'string') throw new UsageError('alerts needs --rules <file.yaml>');
  const config = parseAlertRules(readFileSync(o.rules, 'utf8'), o.rules);
  const engine = new AlertEngine(config, source);
  console.log(
    `evaluating ${config.rules.length} rules every ${config.evaluationIntervalMs} ms against ${source.describe()}; Ctrl-C stops`,
  );
  engine.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await engine.stop();
  const d = engine.notifier.deliveryStats();
  console.log(
    `stopped: ${d.delivered} notifications delivered, ${d.pending} pending, ${engine.sourceErrors} source errors`,
  );
}

export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '-h' || name === '--help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const analysis = ANALYSES[name];
  if (!analysis) {
    console.error(`meshtrace analyze: unknown analysis "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      options: PARSE_OPTIONS,
      strict: true,
    });
    const o = values as Options;
    const { source, close } = await openSource(o);
    try {
      if (name === 'alerts' && o.watch) {
        await watchAlerts(source, o);
        return 0;
      }
      const batch = await source.readSpans({
        startUs: typeof o.from === 'string' ? timeArg('from', o.from) : undefined,
        endUs: typeof o.to === 'string' ? timeArg('to', o.to) : undefined,
        service: typeof o.service === 'string' ? o.service : undefined,
      });
      if (batch.problems.length)
        console.error(
          `skipped unreadable records from ${source.describe()}:\n  ${batch.problems.slice(0, 10).join('\n  ')}`,
        );
      const out = await analysis.run(batch.spans, o);
      if (out.errors?.length) {
        console.error(
          `${out.errors.length} traces could not be analysed, e.g. ${out.errors
            .slice(0, 3)
            .map((e) => `${e.traceId}: ${e.reason}`)
            .join('; ')}`,
        );
      }
      console.log(o.json ? JSON.stringify(out.json, null, 2) : out.table);
    } finally {
      await close();
    }
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`meshtrace analyze ${name}: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  }
}
