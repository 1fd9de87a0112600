// The cross-trace analysis panels: latency breakdown (SVG bars: self time within total, p95),
// bottlenecks, error origins with propagation paths, version regressions, sampling statistics.
import { api } from './api.ts';
import { h, ms, pct, svg, table } from './dom.ts';

const openTrace = (id: string) => () => {
  location.hash = `#/trace/${id}`;
};

export async function renderLatency(root: HTMLElement): Promise<void> {
  const [lat, bn] = await Promise.all([api.latency(), api.bottlenecks()]);
  const ops = lat.operations.slice(0, 15);
  const max = Math.max(1, ...ops.map((o) => o.totalUs.p95));
  const BAR = 420;
  const chart = svg(
    'svg',
    { id: 'latency-chart', width: 760, height: 24 + ops.length * 24, role: 'img' },
    ...ops.map((o, i) => {
      const y = 10 + i * 24;
      const total = (o.totalUs.p95 / max) * BAR;
      const self = (Math.min(o.selfUs.p95, o.totalUs.p95) / max) * BAR;
      return svg(
        'g',
        { class: 'latency-bar', 'data-operation': `${o.service}/${o.operation}` },
        svg('text', { x: 0, y: y + 13, 'font-size': 12, fill: '#1d2330' }, `${o.service}: ${o.operation}`),
        svg('rect', { x: 230, y, width: total.toFixed(1), height: 16, fill: '#5b7bd5', opacity: 0.35 }),
        svg('rect', { x: 230, y, width: self.toFixed(1), height: 16, fill: '#5b7bd5' }),
        svg(
          'text',
          { x: 236 + total, y: y + 13, 'font-size': 11, fill: '#475467' },
          `p95 ${ms(o.totalUs.p95)} (self ${ms(o.selfUs.p95)})`,
        ),
      );
    }),
  );
  root.replaceChildren(
    h('h2', {}, 'Latency breakdown — self time (dark) within total time (light), p95'),
    h('div', { class: 'panel' }, chart),
    h('h2', {}, 'Bottlenecks — share of critical-path time across traces'),
    table(
      ['service', 'operation', 'share', 'on path of traces', 'mean per trace'],
      bn.bottlenecks.slice(0, 15).map((b) => ({
        cls: 'bottleneck-row',
        cells: [b.service, b.operation, pct(b.share), b.traces, ms(b.meanUsPerTrace)],
      })),
    ),
  );
}

export async function renderErrors(root: HTMLElement): Promise<void> {
  const e = await api.errors();
  root.replaceChildren(
    h('h2', {}, `Error origins — ${e.failedTraces} failed traces`),
    table(
      ['origin service', 'operation', 'traces', 'message'],
      e.byOrigin.map((o) => ({
        cls: 'origin-row',
        cells: [h('span', { class: 'error-text' }, o.service), o.operation, o.traces, o.message],
      })),
    ),
    h('h2', { style: 'margin-top:16px' }, 'Propagation paths (latest failed traces)'),
    h(
      'div',
      { class: 'panel', id: 'propagation' },
      ...e.traces
        .slice(0, 20)
        .map((t) =>
          h(
            'div',
            { class: 'chips propagation', style: 'margin-bottom:8px;cursor:pointer', onclick: openTrace(t.traceId) },
            h('code', {}, t.traceId.slice(0, 12)),
            ...t.propagationPath.flatMap((r, i) => [
              i > 0 ? h('span', { class: 'arrow' }, '→') : null,
              h('span', { class: i === 0 ? 'chip origin' : 'chip' }, `${r.service}: ${r.name}`),
            ]),
          ),
        ),
    ),
  );
}

export async function renderRegressions(root: HTMLElement): Promise<void> {
  const r = await api.regressions();
  root.replaceChildren(
    h('h2', {}, `Regressions between versions — ${r.changes.length} changes`),
    h(
      'p',
      { class: 'muted' },
      r.comparisons.length === 0
        ? 'No service has spans from two service.version values yet.'
        : `Compared: ${r.comparisons.map((c) => `${c.service} ${c.fromVersion} → ${c.toVersion}`).join(', ')}`,
    ),
    table(
      ['service', 'operation', 'versions', 'median before', 'median after', 'ratio', 'direction', 'p'],
      r.changes.map((c) => ({
        cls: `regression-row ${c.direction}`,
        cells: [
          c.service,
          c.operation,
          `${c.fromVersion} → ${c.toVersion}`,
          ms(c.fromMedianUs),
          ms(c.toMedianUs),
          `×${c.medianRatio.toFixed(2)}`,
          c.direction === 'slower' ? h('span', { class: 'error-text' }, 'slower') : 'faster',
          c.p.toExponential(1),
        ],
      })),
    ),
  );
}

export async function renderSampling(root: HTMLElement): Promise<void> {
  const r = await api.sampling();
  const s = r.sampling;
  root.replaceChildren(
    h('h2', {}, 'Sampling statistics'),
    h(
      'div',
      { class: 'panel', id: 'sampling-summary' },
      h('span', { class: 'stat' }, h('b', {}, String(s.keptTraces)), 'traces kept'),
      h('span', { class: 'stat' }, h('b', {}, String(Math.round(s.estimatedTraces))), 'requests represented'),
      h('span', { class: 'stat' }, h('b', {}, String(Math.round(s.estimatedDropped))), 'dropped (estimated)'),
      h('span', { class: 'stat' }, h('b', {}, String(s.invalidWeights)), 'malformed weights'),
    ),
    h('h2', {}, 'Kept by reason'),
    table(
      ['reason', 'traces'],
      Object.entries(s.keptBy).map(([k, v]) => ({ cls: 'kept-row', cells: [k, v] })),
    ),
    h('h2', { style: 'margin-top:16px' }, 'Dropped by probability sampling'),
    table(
      ['probability', 'kept', 'dropped (estimated)'],
      s.byProbability.map((p) => ({ cells: [pct(p.probability), p.kept, Math.round(p.estimatedDropped)] })),
    ),
    r.collector
      ? h('pre', { class: 'panel', id: 'collector-stats' }, JSON.stringify(r.collector, null, 2))
      : h('p', { class: 'muted' }, 'No collector in this process (spans read from the store only).'),
  );
}
