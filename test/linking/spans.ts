// Hand-built spans for the linking tests: short ids, times in µs from 0.
import { CANDIDATES, PROVISIONAL, WORKLOAD } from '../../analysis/linking/attributes.ts';
import type { Span } from '../../analysis/model.ts';

const hex = (s: string, n: number): string => Buffer.from(s).toString('hex').padStart(n, '0').slice(-n);

export function span(
  id: string,
  name: string,
  kind: Span['kind'],
  startUs: number,
  endUs: number,
  more: { trace?: string; parent?: string; workload?: string; candidates?: string[] } = {},
): Span {
  const attributes: Span['attributes'] = {};
  if (more.workload !== undefined) attributes[WORKLOAD] = more.workload;
  if (more.candidates !== undefined) {
    attributes[PROVISIONAL] = true;
    attributes[CANDIDATES] = more.candidates.map((c) => sid(c));
  }
  return {
    traceId: hex(more.trace ?? `t-${id}`, 32),
    spanId: sid(id),
    parentSpanId: more.parent === undefined ? null : sid(more.parent),
    name,
    kind,
    service: more.workload ?? 'downstream',
    startUs,
    endUs,
    status: 'unset',
    statusMessage: '',
    attributes,
    resource: {},
    events: [],
    links: [],
  };
}

export const sid = (id: string): string => hex(id, 16);
export const tid = (trace: string): string => hex(trace, 32);
