// Service map: services in columns by call depth (callers left of callees), one SVG edge per
// caller → callee. Colours: node fill and edge stroke by error rate (errorColour), node border
// by p95 latency relative to the slowest service (light blue → deep purple), edge width by
// call count (log scale). Clicking a service opens its traces.
import { api, type ServiceMap } from './api.ts';
import { errorColour, h, ms, pct, svg } from './dom.ts';

const NODE_W = 170;
const NODE_H = 50;
const COL_W = 360;
const ROW_H = 78;

/** Column per service: 0 for services nobody calls, else 1 + the deepest caller (cycles cut). */
export function depths(map: ServiceMap): Map<string, number> {
  const d = new Map<string, number>(map.nodes.map((n) => [n.service, 0]));
  for (let round = 0; round < map.nodes.length; round++) {
    let changed = false;
    for (const e of map.edges) {
      if (e.caller === e.callee) continue;
      const want = (d.get(e.caller) ?? 0) + 1;
      if (want > (d.get(e.callee) ?? 0) && want < map.nodes.length) {
        d.set(e.callee, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return d;
}

function latencyColour(p95: number, max: number): string {
  const x = max > 0 ? Math.min(1, p95 / max) : 0;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * x);
  return `rgb(${mix(157, 90)},${mix(180, 44)},${mix(232, 160)})`;
}

export async function renderServiceMap(root: HTMLElement): Promise<void> {
  const map = await api.serviceMap();
  const depth = depths(map);
  const columns = new Map<number, string[]>();
  for (const n of map.nodes) {
    const c = depth.get(n.service) ?? 0;
    columns.set(c, [...(columns.get(c) ?? []), n.service]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  let rows = 1;
  for (const [c, names] of columns) {
    for (const [i, name] of names.entries()) pos.set(name, { x: 20 + c * COL_W, y: 20 + i * ROW_H });
    rows = Math.max(rows, names.length);
  }
  const width = 40 + Math.max(1, columns.size) * COL_W;
  const height = 40 + rows * ROW_H;
  const maxP95 = Math.max(0, ...map.nodes.map((n) => n.p95Us));
  const maxCalls = Math.max(1, ...map.edges.map((e) => e.calls));

  const edges = map.edges.map((e) => {
    const a = pos.get(e.caller);
    const b = pos.get(e.callee);
    if (!a || !b) return null;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x - 6;
    const y2 = b.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    const w = 1 + 4 * (Math.log(1 + e.calls) / Math.log(1 + maxCalls));
    const colour = errorColour(e.errorRate);
    return svg(
      'g',
      { class: 'map-edge', 'data-caller': e.caller, 'data-callee': e.callee },
      svg('path', {
        d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
        fill: 'none',
        stroke: colour,
        'stroke-width': w.toFixed(1),
        'marker-end': 'url(#arrow)',
        opacity: 0.8,
      }),
      svg(
        'text',
        { x: mx, y: (y1 + y2) / 2 - 6, 'text-anchor': 'middle', 'font-size': 11, fill: '#475467' },
        `${e.calls} calls · ${pct(e.errorRate)} err · p95 ${ms(e.p95Us)}`,
      ),
      svg('title', {}, `${e.caller} → ${e.callee}: ${e.calls} calls, ${e.errors} errors, p50 ${ms(e.p50Us)}`),
    );
  });
  const nodes = map.nodes.map((n) => {
    const p = pos.get(n.service)!;
    return svg(
      'g',
      {
        class: 'map-node',
        'data-service': n.service,
        transform: `translate(${p.x},${p.y})`,
        onclick: () => {
          location.hash = `#/traces?service=${encodeURIComponent(n.service)}`;
        },
      },
      svg('rect', {
        width: NODE_W,
        height: NODE_H,
        rx: 8,
        fill: errorColour(n.errorRate),
        'fill-opacity': 0.18,
        stroke: latencyColour(n.p95Us, maxP95),
        'stroke-width': 2.5,
        'stroke-dasharray': n.uninstrumented ? '5 3' : undefined,
      }),
      svg('text', { x: 10, y: 20, 'font-size': 14, 'font-weight': 600, fill: '#1d2330' }, n.service),
      svg(
        'text',
        { x: 10, y: 38, 'font-size': 11, fill: '#475467' },
        `${n.requests} req · ${pct(n.errorRate)} err · p95 ${ms(n.p95Us)}`,
      ),
      svg('title', {}, `${n.service}${n.uninstrumented ? ' (uninstrumented, seen from its callers)' : ''}`),
    );
  });
  const picture = svg(
    'svg',
    { id: 'service-map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' },
    svg(
      'defs',
      {},
      svg(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#667085' }),
      ),
    ),
    ...edges.filter((e) => e !== null),
    ...nodes,
  );
  root.replaceChildren(
    h('h2', {}, `Service map — ${map.nodes.length} services, ${map.edges.length} dependencies`),
    h(
      'div',
      { class: 'legend panel' },
      h('span', {}, h('span', { class: 'swatch', style: 'background:#2e9d5b' }), 'errors < 1%'),
      h('span', {}, h('span', { class: 'swatch', style: 'background:#e0a100' }), '< 5%'),
      h('span', {}, h('span', { class: 'swatch', style: 'background:#d1343a' }), '≥ 5%'),
      h('span', {}, h('span', { class: 'swatch', style: 'background:rgb(157,180,232)' }), 'fast p95'),
      h('span', {}, h('span', { class: 'swatch', style: 'background:rgb(90,44,160)' }), 'slow p95 (border)'),
      h('span', { class: 'muted' }, `${map.spans} spans analysed; click a service for its traces`),
    ),
    map.nodes.length === 0 ? h('p', { class: 'muted' }, 'No spans stored yet.') : h('div', { class: 'panel' }, picture),
  );
}
