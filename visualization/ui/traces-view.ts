// Trace search (through the Jaeger-compatible /api/traces): service and operation pickers,
// newest traces first; a row opens the trace view.
import { api, type JaegerTrace } from './api.ts';
import { h, ms, table } from './dom.ts';

export interface TraceRow {
  traceID: string;
  rootService: string;
  rootOperation: string;
  spans: number;
  durationUs: number;
  startUs: number;
  errors: number;
}

export function summarize(t: JaegerTrace): TraceRow {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const roots = t.spans.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID)));
  const root = roots.reduce((a, b) => (b.duration > a.duration ? b : a), roots[0] ?? t.spans[0]!);
  const start = Math.min(...t.spans.map((s) => s.startTime));
  const end = Math.max(...t.spans.map((s) => s.startTime + s.duration));
  return {
    traceID: t.traceID,
    rootService: t.processes[root.processID]?.serviceName ?? '?',
    rootOperation: root.operationName,
    spans: t.spans.length,
    durationUs: end - start,
    startUs: start,
    errors: t.spans.filter((s) => s.tags.some((g) => g.key === 'error' && g.value === true)).length,
  };
}

export async function renderTraces(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const services = await api.services();
  const service = params.get('service') ?? '';
  const operation = params.get('operation') ?? '';
  const ops = service ? await api.operations(service) : [];
  const q = new URLSearchParams({ limit: params.get('limit') ?? '30' });
  if (service) q.set('service', service);
  if (service && operation) q.set('operation', operation);
  const traces = (await api.traces(q)).map(summarize);
  const go = (next: Record<string, string>) => {
    const p = new URLSearchParams({ service, operation, ...next });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    location.hash = `#/traces?${p}`;
  };
  const select = (name: string, value: string, options: string[], onchange: (v: string) => void) =>
    h(
      'select',
      { name, onchange: (e) => onchange((e.target as HTMLSelectElement).value) },
      h('option', { value: '' }, `all ${name}s`),
      ...options.map((o) => h('option', { value: o, selected: o === value }, o)),
    );
  root.replaceChildren(
    h('h2', {}, service ? `Traces of ${service}` : 'Recent traces'),
    h(
      'div',
      { class: 'controls' },
      select('service', service, services, (v) => go({ service: v, operation: '' })),
      select('operation', operation, ops, (v) => go({ operation: v })),
      h('span', { class: 'muted' }, `${traces.length} traces, newest first`),
    ),
    table(
      ['trace', 'root', 'spans', 'errors', 'duration', 'started'],
      traces.map((t) => ({
        cls: 'trace-row',
        onclick: () => {
          location.hash = `#/trace/${t.traceID}`;
        },
        cells: [
          h('code', {}, t.traceID.slice(0, 12)),
          `${t.rootService}: ${t.rootOperation}`,
          t.spans,
          t.errors > 0 ? h('span', { class: 'error-text' }, String(t.errors)) : '0',
          ms(t.durationUs),
          new Date(t.startUs / 1000).toISOString().replace('T', ' ').slice(0, 23),
        ],
      })),
    ),
  );
}
