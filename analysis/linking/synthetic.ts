// Synthetic ambiguous windows with ground truth, for tests and bench:linking-offline. One legacy
// workload ("shop") serves three operations whose call patterns are known; `concurrency`
// closed-loop clients keep that many requests in flight. Every outbound call starts a
// provisional trace (the app forwarded no context) holding the call and the downstream server
// span; its candidate set is the workload's inbound requests in flight when it left, exactly
// what the sidecar can record. Seeded: the same options give the same window.
//
//   GET /home      ──▶ GET /user ──▶ GET /recs                       (sequential)
//   POST /checkout ──▶ GET /cart ──▶ { POST /charge ‖ POST /reserve } ──▶ POST /notify
//   GET /search    ──▶ GET /index ×1–3 ──▶ GET /ads                   (variable count)
import { Prng } from '../generate/prng.ts';
import type { Span } from '../model.ts';
import { CANDIDATES, PROVISIONAL, WORKLOAD } from './attributes.ts';

export interface WindowOptions {
  concurrency: number;
  requests: number;
  seed: number;
  /** true: calls carry their parent (training data, as if headers were forwarded). */
  linked?: boolean;
}

export interface SyntheticWindow {
  spans: Span[];
  /** outbound span id → true inbound span id */
  truth: Map<string, string>;
  workload: string;
}

type Step = { calls: string[] } | { repeat: string; min: number; max: number };

const PATTERNS: Record<string, Step[]> = {
  'GET /home': [{ calls: ['GET /user'] }, { calls: ['GET /recs'] }],
  'POST /checkout': [
    { calls: ['GET /cart'] },
    { calls: ['POST /charge', 'POST /reserve'] },
    { calls: ['POST /notify'] },
  ],
  'GET /search': [{ repeat: 'GET /index', min: 1, max: 3 }, { calls: ['GET /ads'] }],
};

/** Median service time (µs) of each downstream operation. */
const CALL_MEDIAN_US: Record<string, number> = {
  'GET /user': 3000,
  'GET /recs': 8000,
  'GET /cart': 2000,
  'POST /charge': 12000,
  'POST /reserve': 5000,
  'POST /notify': 1500,
  'GET /index': 4000,
  'GET /ads': 2500,
};

const WORKLOAD_NAME = 'shop';

export function syntheticWindow(options: WindowOptions): SyntheticWindow {
  const p = new Prng(options.seed);
  const spans: Span[] = [];
  const truth = new Map<string, string>();
  const ops = Object.keys(PATTERNS);
  const span = (fields: Partial<Span> & Pick<Span, 'name' | 'kind' | 'startUs' | 'endUs' | 'service'>): Span => ({
    traceId: p.hex(32),
    spanId: p.hex(16),
    parentSpanId: null,
    status: 'unset',
    statusMessage: '',
    attributes: {},
    resource: { 'service.name': fields.service },
    events: [],
    links: [],
    ...fields,
  });

  const inbound: Span[] = [];
  const outbound: { span: Span; parent: Span }[] = [];
  const perClient = Math.ceil(options.requests / options.concurrency);
  const t0 = 1_800_000_000_000_000;
  for (let c = 0; c < options.concurrency; c++) {
    let t = t0 + p.logNormal(2000, 1) * c; // staggered start
    for (let r = 0; r < perClient && inbound.length < options.requests; r++) {
      const op = p.pick(ops);
      const start = Math.round(t);
      let cursor = start + p.logNormal(300, 0.4); // parse the request
      const calls: { name: string; startUs: number; endUs: number }[] = [];
      for (const step of PATTERNS[op]!) {
        const names =
          'calls' in step ? step.calls : Array.from({ length: p.int(step.min, step.max + 1) }, () => step.repeat);
        if ('calls' in step) {
          // Parallel fan-out: all leave together (±tiny jitter), the step ends when all returned.
          let end = cursor;
          for (const n of names) {
            const s = Math.round(cursor + p.logNormal(40, 0.5));
            const e = Math.round(s + p.logNormal(CALL_MEDIAN_US[n]!, 0.5));
            calls.push({ name: n, startUs: s, endUs: e });
            end = Math.max(end, e);
          }
          cursor = end + p.logNormal(200, 0.5);
        } else {
          for (const n of names) {
            const s = Math.round(cursor);
            const e = Math.round(s + p.logNormal(CALL_MEDIAN_US[n]!, 0.5));
            calls.push({ name: n, startUs: s, endUs: e });
            cursor = e + p.logNormal(200, 0.5);
          }
        }
      }
      const end = Math.round(cursor + p.logNormal(300, 0.4)); // write the response
      const s = span({
        name: op,
        kind: 'server',
        service: WORKLOAD_NAME,
        startUs: start,
        endUs: end,
        attributes: { [WORKLOAD]: WORKLOAD_NAME },
      });
      inbound.push(s);
      for (const c of calls) {
        const o = span({
          name: c.name,
          kind: 'client',
          service: WORKLOAD_NAME,
          startUs: c.startUs,
          endUs: c.endUs,
          attributes: { [WORKLOAD]: WORKLOAD_NAME },
        });
        if (options.linked) {
          o.traceId = s.traceId;
          o.parentSpanId = s.spanId;
        }
        outbound.push({ span: o, parent: s });
      }
      t = end + p.logNormal(500, 0.8); // client think time
    }
  }
  spans.push(...inbound);
  for (const { span: o, parent } of outbound) {
    truth.set(o.spanId, parent.spanId);
    if (!options.linked) {
      o.attributes[PROVISIONAL] = true;
      o.attributes[CANDIDATES] = inbound
        .filter((i) => i.startUs <= o.startUs && o.startUs <= i.endUs)
        .map((i) => i.spanId);
    }
    spans.push(o);
    const service = o.name.split('/')[1] ?? 'downstream';
    spans.push(
      span({
        traceId: o.traceId,
        parentSpanId: o.spanId,
        name: o.name,
        kind: 'server',
        service,
        startUs: o.startUs + 100,
        endUs: Math.max(o.startUs + 100, o.endUs - 100),
      }),
    );
  }
  return { spans, truth, workload: WORKLOAD_NAME };
}

export interface EdgeAccuracy {
  edges: number;
  correct: number;
  wrong: number;
  unlinked: number;
}

/** Score links (outbound → inbound) against the ground truth of a window. */
export function scoreLinks(
  truth: ReadonlyMap<string, string>,
  links: readonly { outboundSpanId: string; inboundSpanId: string }[],
): EdgeAccuracy {
  let correct = 0;
  let wrong = 0;
  for (const l of links) {
    if (truth.get(l.outboundSpanId) === l.inboundSpanId) correct++;
    else wrong++;
  }
  return { edges: truth.size, correct, wrong, unlinked: truth.size - correct - wrong };
}
