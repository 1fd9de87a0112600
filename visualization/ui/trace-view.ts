// One trace as a timeline: spans in tree order (children under their parent by start time),
// each bar placed on the trace's time axis; the critical path's sections are drawn over the
// bars in orange (so a span is highlighted only for the part of it that was critical), and
// the error origin and its propagation path are listed above.
//
//   frontend GET /      |====================================|  ← orange where critical
//     cart  getCart       |====|
//     checkout  pay              |=======================|
import { api, type JaegerTrace } from './api.ts';
import { h, ms } from './dom.ts';

type JSpan = JaegerTrace['spans'][number];

export function treeOrder(t: JaegerTrace): Array<{ span: JSpan; depth: number }> {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const parentOf = (s: JSpan) => s.references.find((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))?.spanID;
  const kids = new Map<string | undefined, JSpan[]>();
  for (const s of t.spans) {
    const p = parentOf(s);
    kids.set(p, [...(kids.get(p) ?? []), s]);
  }
  for (const list of kids.values()) list.sort((a, b) => a.startTime - b.startTime);
  const out: Array<{ span: JSpan; depth: number }> = [];
  const stack: Array<{ span: JSpan; depth: number }> = (kids.get(undefined) ?? [])
    .slice()
    .reverse()
    .map((span) => ({ span, depth: 0 }));
  const seen = new Set<string>();
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e.span.spanID)) continue;
    seen.add(e.span.spanID);
    out.push(e);
    const children = kids.get(e.span.spanID) ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ span: children[i]!, depth: e.depth + 1 });
  }
  return out;
}

/** The host whose clock stamped a span, as analysis/analyses/timeline-tree.ts hostOf decides. */
function hostOf(t: JaegerTrace, s: JSpan): string {
  const p = t.processes[s.processID];
  const tag = (k: string) => p?.tags.find((g) => g.key === k)?.value;
  const h = tag('host.name') ?? tag('service.instance.id');
  return typeof h === 'string' && h !== '' ? h : (p?.serviceName ?? '');
}

/**
 * Per-span clock-skew shift, replaying skew-adjustment.ts over the tree: a listed span gets its
 * delta, a same-host child inherits its parent's, a cross-host child not listed stays put.
 * Bars drawn with it line up with the critical path's (skew-corrected) sections.
 */
export function skewDeltas(
  t: JaegerTrace,
  order: Array<{ span: JSpan; depth: number }>,
  adjustments: Array<{ spanId: string; deltaUs: number }>,
): Map<string, number> {
  const listed = new Map(adjustments.map((a) => [a.spanId, a.deltaUs]));
  const byId = new Map(t.spans.map((s) => [s.spanID, s]));
  const out = new Map<string, number>();
  for (const { span } of order) {
    const parentId = span.references.find((r) => r.refType === 'CHILD_OF' && byId.has(r.spanID))?.spanID;
    const parent = parentId === undefined ? undefined : byId.get(parentId);
    let d = listed.get(span.spanID);
    if (d === undefined) {
      d = parent && hostOf(t, parent) === hostOf(t, span) ? (out.get(parent.spanID) ?? 0) : 0;
    }
    out.set(span.spanID, d);
  }
  return out;
}

export async function renderTrace(root: HTMLElement, traceId: string): Promise<void> {
  const [[trace], analysis] = await Promise.all([api.trace(traceId), api.criticalPath(traceId)]);
  if (!trace) throw new Error(`trace ${traceId} not found`);
  const cp = analysis.criticalPath;
  const origin = analysis.errorOrigin;
  const order = treeOrder(trace);
  const skew = skewDeltas(trace, order, cp.skewAdjustments);
  const at = (s: JSpan) => s.startTime + (skew.get(s.spanID) ?? 0);
  const t0 = Math.min(...trace.spans.map(at));
  const t1 = Math.max(...trace.spans.map((s) => at(s) + s.duration));
  const span = Math.max(1, t1 - t0);
  const x = (us: number) => `${(((us - t0) / span) * 100).toFixed(3)}%`;
  const w = (us: number) => `${Math.max(0.2, (us / span) * 100).toFixed(3)}%`;
  const sectionsBySpan = new Map<string, typeof cp.sections>();
  for (const s of cp.sections) sectionsBySpan.set(s.spanId, [...(sectionsBySpan.get(s.spanId) ?? []), s]);
  const service = (s: JSpan) => trace.processes[s.processID]?.serviceName ?? '?';
  const failed = (s: JSpan) => s.tags.some((g) => g.key === 'error' && g.value === true);
  const inferred = trace.spans.filter((s) => tagOf(s, 'meshtrace.link.inferred') === true);

  const rows = order.map(({ span: s, depth }) => {
    const shift = skew.get(s.spanID) ?? 0;
    const sections = sectionsBySpan.get(s.spanID) ?? [];
    const badge = linkBadge(s);
    const cls = [
      'tl-row',
      sections.length > 0 ? 'on-critical-path' : '',
      origin?.origin?.spanId === s.spanID ? 'error-origin' : '',
      badge?.kind === 'inferred' ? 'inferred-link' : '',
    ]
      .filter(Boolean)
      .join(' ');
    return h(
      'div',
      {
        class: cls,
        'data-span-id': s.spanID,
        title: `${service(s)}: ${s.operationName}${shift ? ` (clock skew corrected by ${ms(shift)})` : ''}`,
      },
      h(
        'div',
        { class: 'tl-label', style: `padding-left:${depth * 14}px` },
        `${service(s)}: ${s.operationName}`,
        badge?.element ?? null,
      ),
      h(
        'div',
        { class: 'tl-track' },
        h('div', {
          class: `tl-bar${failed(s) ? ' failed' : ''}`,
          style: `left:${x(s.startTime + shift)};width:${w(s.duration)}`,
        }),
        ...sections.map((c) =>
          h('div', {
            class: 'tl-cp',
            style: `left:${x(c.startUs)};width:${w(c.endUs - c.startUs)}`,
            title: `critical ${ms(c.endUs - c.startUs)}`,
          }),
        ),
      ),
      h('div', { class: 'tl-dur' }, ms(s.duration)),
    );
  });

  // Critical time per span, largest first: what to make faster.
  const bySpan = new Map<string, { service: string; name: string; us: number }>();
  for (const c of cp.sections) {
    const e = bySpan.get(c.spanId) ?? { service: c.service, name: c.name, us: 0 };
    e.us += c.endUs - c.startUs;
    bySpan.set(c.spanId, e);
  }
  const total = cp.endUs - cp.startUs;
  const critical = [...bySpan.values()].sort((a, b) => b.us - a.us);

  const originPanel =
    origin?.rootFailed && origin.origin
      ? h(
          'div',
          { class: 'panel', id: 'error-origin' },
          h('h2', {}, 'Error origin and propagation'),
          h(
            'div',
            { class: 'chips' },
            ...origin.propagationPath.flatMap((r, i) => [
              i > 0 ? h('span', { class: 'arrow' }, '→') : null,
              h('span', { class: i === 0 ? 'chip origin' : 'chip' }, `${r.service}: ${r.name}`),
            ]),
          ),
          origin.message ? h('p', { class: 'error-text' }, origin.message) : null,
        )
      : h(
          'p',
          { class: 'muted' },
          origin?.allOrigins.length ? 'Failures inside this trace were handled (the root did not fail).' : '',
        );
  root.replaceChildren(
    h('h2', {}, `Trace ${trace.traceID}`),
    h(
      'div',
      { class: 'panel' },
      h('span', { class: 'stat' }, h('b', {}, ms(span)), 'duration'),
      h('span', { class: 'stat' }, h('b', {}, String(trace.spans.length)), 'spans'),
      h('span', { class: 'stat' }, h('b', {}, String(cp.sections.length)), 'critical-path sections'),
      h('span', { class: 'stat' }, h('b', {}, String(trace.spans.filter(failed).length)), 'failed spans'),
      h('span', { class: 'stat' }, h('b', {}, String(cp.skewAdjustments.length)), 'clock-skew corrections'),
      h('span', { class: 'stat', id: 'inferred-links' }, h('b', {}, String(inferred.length)), 'inferred links'),
    ),
    h(
      'div',
      { class: 'panel', id: 'critical-path' },
      h('h2', {}, 'Critical path'),
      h(
        'div',
        { class: 'chips' },
        ...critical.map((c) =>
          h(
            'span',
            { class: 'chip cp-chip' },
            `${c.service}: ${c.name} ${ms(c.us)} (${((c.us / total) * 100).toFixed(0)}%)`,
          ),
        ),
      ),
    ),
    originPanel,
    h('div', { class: 'panel timeline', id: 'timeline' }, ...rows),
  );
}

function tagOf(s: JSpan, key: string): unknown {
  return s.tags.find((g) => g.key === key)?.value;
}

/**
 * The mark of a span whose parent the app never sent (analysis/linking): an inferred link, shown
 * dashed with its confidence and who made it, or a provisional call whose parent is unknown.
 */
function linkBadge(s: JSpan): { kind: 'inferred' | 'provisional'; element: HTMLElement } | null {
  if (tagOf(s, 'meshtrace.link.inferred') === true) {
    const confidence = Number(tagOf(s, 'meshtrace.link.confidence'));
    const pct = `${Math.floor(confidence * 100)} %`;
    const how =
      tagOf(s, 'meshtrace.link.source') === 'collector'
        ? 'linked by the collector from the whole window (timing, call pattern, ids, connections)'
        : tagOf(s, 'meshtrace.link.method') === 'single'
          ? 'linked by the sidecar: the only request in flight when the call left'
          : `linked by the sidecar (${String(tagOf(s, 'meshtrace.link.evidence') ?? 'model')})`;
    return {
      kind: 'inferred',
      element: h(
        'span',
        {
          class: 'link-badge inferred',
          title: `Parent inferred — the app sent no trace context; ${how}; confidence ${pct}`,
        },
        `⇢ ${pct}`,
      ),
    };
  }
  if (tagOf(s, 'meshtrace.link.provisional') === true) {
    return {
      kind: 'provisional',
      element: h(
        'span',
        {
          class: 'link-badge provisional',
          title:
            'The app sent no trace context and this call could not be told apart from the other requests in flight',
        },
        '⇢ ?',
      ),
    };
  }
  return null;
}
