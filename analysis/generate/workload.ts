// Synthetic traces with known answers. Simulates requests through a Topology in true time,
// then stamps each span with its host's skewed clock, so analyses see what real traces show.
//
// Injected anomalies (each recorded in the ground truth):
//   slow        one operation gets extra own time → it must rank first as the bottleneck
//   error       in some traces a deep operation fails and the failure propagates to the root
//               (every ancestor fails); more often inside an incident window (recovery time)
//   handled     noise: a leaf fails but its caller copes (the trace is not an erroring one)
//   regression  an operation slows down from one service.version to the next, while a
//               control operation of the same service does not change
//   capacity    one operation's own time grows with the arrival rate past a capacity (knee)
//   sampling    optional: only traces passing an OTel `ot=th` threshold are kept
import { thresholdToProbability } from '../analyses/sampling-weight.ts';
import type { Span, SpanKind } from '../model.ts';
import { Prng } from './prng.ts';
import { defaultTopology, splitOperation, type Topology, validateTopology } from './topology.ts';

export interface WorkloadOptions {
  traces: number;
  seed: number;
  topology?: Topology;
  startUs?: number; // first request, µs since epoch
  /** Mean arrival rate in requests/s; it swings ±80 % sinusoidally over `ratePeriodS`. */
  ratePerS?: number;
  ratePeriodS?: number;
  slow?: { operation: string; extraUs: number } | null;
  error?: {
    operation: string; // where failures start
    rate: number; // share of traces outside the incident
    incident?: { fromFraction: number; toFraction: number; rate: number }; // of the timeline
  } | null;
  handledErrorRate?: number;
  regression?: {
    service: string;
    operation: string;
    control: string; // an operation of the same service that must not change
    fromVersion: string;
    toVersion: string;
    factor: number; // own-time multiplier in toVersion
    atFraction: number; // share of the timeline before the deploy
  } | null;
  capacity?: { operation: string; ratePerS: number; usPerExcessRequest: number } | null;
  /** OTel threshold (1–14 hex digits) as written after `ot=th:`; traces below it are dropped. */
  samplingThreshold?: string | null;
}

export interface TraceErrorTruth {
  traceId: string;
  originSpanId: string;
  service: string;
  operation: string;
  /** Span ids from the origin up to the root. */
  path: string[];
}

export interface GroundTruth {
  seed: number;
  traces: number; // generated (before sampling)
  keptTraces: number;
  spans: number;
  startUs: number;
  endUs: number;
  bottleneck: { service: string; operation: string } | null;
  errors: TraceErrorTruth[];
  errorOrigin: { service: string; operation: string } | null;
  incident: { service: string; startUs: number; endUs: number } | null;
  regression: {
    service: string;
    operation: string;
    fromVersion: string;
    toVersion: string;
    factor: number;
    deployUs: number;
  } | null;
  control: { service: string; operation: string } | null;
  correlations: Array<{ service: string; operation: string; attribute: string; correlated: boolean }>;
  capacity: { service: string; operation: string; kneeRatePerS: number } | null;
  clockSkewUs: Record<string, number>; // host → offset
  sampling: { threshold: string; probability: number } | null;
  /** Server/consumer span counts per "service/operation" before sampling (RED ground truth). */
  requests: Record<string, { count: number; errors: number }>;
}

export interface Workload {
  spans: Span[];
  truth: GroundTruth;
}

export function defaultWorkloadOptions(traces: number, seed: number): WorkloadOptions {
  return {
    traces,
    seed,
    slow: { operation: 'inventory/reserve', extraUs: 45_000 },
    error: { operation: 'bank/authorize', rate: 0.02, incident: { fromFraction: 0.6, toFraction: 0.75, rate: 0.5 } },
    handledErrorRate: 0.03,
    regression: {
      service: 'catalog',
      operation: 'search',
      control: 'item',
      fromVersion: '1.4.0',
      toVersion: '1.5.0',
      factor: 1.6,
      atFraction: 0.5,
    },
    capacity: { operation: 'payments/charge', ratePerS: 60, usPerExcessRequest: 150 },
  };
}

interface Rec {
  span: Span;
  trueStart: number;
  trueEnd: number;
  host: string;
  parent: Rec | null;
  sync: boolean; // reached from the root through synchronous calls only
  depth: number;
}

const ERROR_MESSAGES = [
  (p: Prng) => `authorization declined for card ending ${p.int(1000, 9999)} (txn ${uuid(p)})`,
  (p: Prng) => `upstream timeout after ${p.int(1000, 5000)} ms calling 10.0.${p.int(0, 255)}.${p.int(1, 255)}:8443`,
  (p: Prng) => `ledger write failed at /var/lib/bank/ledger/${p.hex(8)}.db: disk quota exceeded`,
];
const HANDLED_MESSAGES = [
  (p: Prng) => `cache miss for key session:${p.int(1, 1_000_000)}`,
  (p: Prng) => `stale entry 0x${p.hex(12)} evicted for user ${p.pick(['ann', 'bo', 'cy'])}@example.com`,
];

function uuid(p: Prng): string {
  const h = p.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const topology = options.topology ?? defaultTopology();
  const problems = validateTopology(topology);
  if (problems.length) throw new Error(`invalid topology: ${problems.join('; ')}`);
  for (const [what, ref] of [
    ['slow.operation', options.slow?.operation],
    ['error.operation', options.error?.operation],
    ['capacity.operation', options.capacity?.operation],
  ] as const) {
    if (ref !== undefined && !topology.operations[ref])
      throw new Error(`${what}: operation "${ref}" is not in the topology`);
  }
  if (!(Number.isInteger(options.traces) && options.traces >= 0))
    throw new Error(`traces must be an integer ≥ 0, got ${options.traces}`);
  const p = new Prng(options.seed);
  const startUs = options.startUs ?? 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
  const rate = options.ratePerS ?? 100;
  const period = options.ratePeriodS ?? 20;
  const threshold = options.samplingThreshold ?? null;
  const samplingProbability = threshold === null ? 1 : thresholdToProbability(threshold);
  if (samplingProbability === null)
    throw new Error(`samplingThreshold "${threshold}" is not 1–14 lowercase hex digits`);
  const thresholdValue = threshold === null ? 0n : BigInt(`0x${threshold.padEnd(14, '0')}`);

  // Arrival times first: the whole timeline is needed to place the incident and the deploy.
  const arrivals: number[] = [];
  const ratesAt: number[] = [];
  let t = startUs;
  for (let i = 0; i < options.traces; i++) {
    const r = rate * (1 + 0.8 * Math.sin((2 * Math.PI * (t - startUs)) / (period * 1e6)));
    arrivals.push(t);
    ratesAt.push(r);
    t += (-Math.log(1 - p.next()) / r) * 1e6; // Poisson arrivals at the current rate
  }
  const endUs = t;
  const at = (fraction: number) => startUs + (endUs - startUs) * fraction;
  const deployUs = options.regression ? at(options.regression.atFraction) : Number.POSITIVE_INFINITY;
  const incident = options.error?.incident;
  const incidentFrom = incident ? at(incident.fromFraction) : 0;
  const incidentTo = incident ? at(incident.toFraction) : 0;

  const skew = (service: string, host: number) => topology.services[service]?.clockSkewUs?.[host] ?? 0;
  const clockSkewUs: Record<string, number> = {};
  for (const [name, s] of Object.entries(topology.services)) {
    for (let h = 0; h < s.hosts; h++) clockSkewUs[`${name}-${h}`] = skew(name, h);
  }

  const spans: Span[] = [];
  const errors: TraceErrorTruth[] = [];
  const requests: Record<string, { count: number; errors: number }> = {};
  let kept = 0;

  for (let i = 0; i < options.traces; i++) {
    const traceId = p.hex(32);
    const arrival = arrivals[i]!;
    const recs: Rec[] = [];
    const version = (service: string) =>
      options.regression && service === options.regression.service
        ? arrival < deployUs
          ? options.regression.fromVersion
          : options.regression.toVersion
        : '1.0.0';

    const newSpan = (
      service: string,
      hostNo: number,
      name: string,
      kind: SpanKind,
      parent: Rec | null,
      trueStart: number,
      sync: boolean,
    ): Rec => {
      const host = `${service}-${hostNo}`;
      const span: Span = {
        traceId,
        spanId: p.hex(16),
        parentSpanId: parent?.span.spanId ?? null,
        name,
        kind,
        service,
        startUs: 0,
        endUs: 0,
        status: 'unset',
        statusMessage: '',
        attributes: {},
        resource: { 'service.name': service, 'service.version': version(service), 'host.name': host },
        events: [],
        links: [],
      };
      const rec: Rec = {
        span,
        trueStart,
        trueEnd: trueStart,
        host,
        parent,
        sync,
        depth: parent ? parent.depth + 1 : 0,
      };
      recs.push(rec);
      return rec;
    };

    // Runs operation `ref` as a server (or consumer) span starting at `start`; returns its end.
    const serve = (ref: string, start: number, parent: Rec | null, kind: SpanKind, sync: boolean): Rec => {
      const { service, operation } = splitOperation(ref);
      const spec = topology.operations[ref]!;
      const hostNo = p.int(0, topology.services[service]!.hosts);
      const rec = newSpan(service, hostNo, operation, kind, parent, start, sync);
      let self = p.logNormal(spec.selfUs, spec.sigma ?? 0.25);
      for (const [attr, a] of Object.entries(spec.numericAttributes ?? {})) {
        const v = Math.round(a.min + p.next() * (a.max - a.min));
        rec.span.attributes[attr] = v;
        self += v * (a.usPerUnit ?? 0);
      }
      if (options.slow?.operation === ref) self += p.logNormal(options.slow.extraUs, 0.2);
      if (
        options.regression &&
        `${options.regression.service}/${options.regression.operation}` === ref &&
        arrival >= deployUs
      )
        self *= options.regression.factor;
      if (options.capacity?.operation === ref) {
        self += Math.max(0, ratesAt[i]! - options.capacity.ratePerS) * options.capacity.usPerExcessRequest;
      }
      let now = start + self * 0.3; // some work before the first call, the rest after
      const calls = spec.calls ?? [];
      let c = 0;
      while (c < calls.length) {
        const call = calls[c]!;
        if (call.mode === 'parallel') {
          let groupEnd = now;
          while (c < calls.length && calls[c]!.mode === 'parallel') {
            const pc = calls[c++]!;
            if (!p.chance(pc.probability ?? 1)) continue;
            for (let k = 0; k < (pc.fanOut ?? 1); k++)
              groupEnd = Math.max(groupEnd, rpc(pc.to, now + k * 50, rec, sync));
          }
          now = groupEnd;
          continue;
        }
        c++;
        if (!p.chance(call.probability ?? 1)) continue;
        for (let k = 0; k < (call.fanOut ?? 1); k++) {
          if (call.mode === 'sequential') now = rpc(call.to, now, rec, sync);
          else now = fireAndForget(call.to, now, rec);
        }
      }
      rec.trueEnd = now + self * 0.7;
      return rec;
    };

    // Client span in the caller around the callee's server span (network time each way).
    const rpc = (ref: string, start: number, caller: Rec, sync: boolean): number => {
      const { service, operation } = splitOperation(ref);
      const callerHost = Number(caller.host.slice(caller.host.lastIndexOf('-') + 1));
      const client = newSpan(caller.span.service, callerHost, `${service} ${operation}`, 'client', caller, start, sync);
      client.span.attributes['peer.service'] = service;
      const server = serve(ref, start + p.logNormal(300, 0.3), client, 'server', sync);
      client.trueEnd = server.trueEnd + p.logNormal(300, 0.3);
      return client.trueEnd;
    };

    const fireAndForget = (ref: string, start: number, caller: Rec): number => {
      const { service, operation } = splitOperation(ref);
      const callerHost = Number(caller.host.slice(caller.host.lastIndexOf('-') + 1));
      const producer = newSpan(
        caller.span.service,
        callerHost,
        `publish ${service} ${operation}`,
        'producer',
        caller,
        start,
        false,
      );
      producer.trueEnd = start + p.logNormal(200, 0.2);
      serve(ref, producer.trueEnd + p.logNormal(2_000, 0.5), producer, 'consumer', false);
      return producer.trueEnd;
    };

    const root = serve(topology.entry, arrival, null, 'server', true);
    root.span.attributes['http.request.method'] = 'GET';

    // Handled noise: a leaf fails, its caller copes.
    if (p.chance(options.handledErrorRate ?? 0)) {
      const leaves = recs.filter(
        (r) => r.span.kind === 'server' && r.parent !== null && !recs.some((x) => x.parent === r),
      );
      const leaf = p.pick(leaves);
      leaf.span.status = 'error';
      leaf.span.statusMessage = p.pick(HANDLED_MESSAGES)(p);
    }
    // Propagating error: starts at the configured operation (or the deepest synchronous leaf).
    const e = options.error;
    const errorRate = e
      ? e.incident && arrival >= incidentFrom && arrival < incidentTo
        ? e.incident.rate
        : e.rate
      : 0;
    let truthError: TraceErrorTruth | null = null;
    if (e && p.chance(errorRate)) {
      const { service, operation } = splitOperation(e.operation);
      const candidates = recs.filter(
        (r) => r.sync && r.span.kind === 'server' && r.span.service === service && r.span.name === operation,
      );
      const origin = candidates.length ? p.pick(candidates) : null;
      if (origin) {
        const message = p.pick(ERROR_MESSAGES)(p);
        origin.span.status = 'error';
        origin.span.statusMessage = message;
        origin.span.events.push({
          timeUs: 0,
          name: 'exception',
          attributes: { 'exception.type': 'BankError', 'exception.message': message },
        });
        const path = [origin.span.spanId];
        for (let a = origin.parent; a !== null; a = a.parent) {
          a.span.status = 'error';
          a.span.statusMessage = `upstream ${origin.span.service} failed`;
          if (a.span.kind === 'server') a.span.attributes['http.response.status_code'] = 502;
          path.push(a.span.spanId);
        }
        truthError = { traceId, originSpanId: origin.span.spanId, service, operation, path };
      }
    }
    for (const r of recs) {
      if (r.span.kind !== 'server' && r.span.kind !== 'consumer') continue;
      const key = `${r.span.service}/${r.span.name}`;
      const entry = requests[key] ?? { count: 0, errors: 0 };
      entry.count++;
      if (r.span.status === 'error') entry.errors++;
      requests[key] = entry;
    }

    // OTel consistent probability sampling: keep when randomness R (low 56 bits of the trace
    // id) ≥ rejection threshold T.
    if (threshold !== null && BigInt(`0x${traceId.slice(18)}`) < thresholdValue) continue;
    kept++;
    if (truthError) errors.push(truthError);
    for (const r of recs) {
      const sk = clockSkewUs[r.host] ?? 0;
      r.span.startUs = Math.round(r.trueStart + sk);
      r.span.endUs = Math.max(r.span.startUs, Math.round(r.trueEnd + sk));
      for (const ev of r.span.events) ev.timeUs = r.span.endUs;
      if (threshold !== null) r.span.traceState = `ot=th:${threshold}`;
      spans.push(r.span);
    }
  }

  const errorRef = options.error ? splitOperation(options.error.operation) : null;
  const corr: GroundTruth['correlations'] = [];
  for (const [ref, op] of Object.entries(topology.operations)) {
    const { service, operation } = splitOperation(ref);
    for (const [attribute, a] of Object.entries(op.numericAttributes ?? {}))
      corr.push({ service, operation, attribute, correlated: (a.usPerUnit ?? 0) > 0 });
  }
  const truth: GroundTruth = {
    seed: options.seed,
    traces: options.traces,
    keptTraces: kept,
    spans: spans.length,
    startUs,
    endUs,
    bottleneck: options.slow ? splitOperation(options.slow.operation) : null,
    errors,
    errorOrigin: errorRef,
    incident: errorRef && incident ? { service: errorRef.service, startUs: incidentFrom, endUs: incidentTo } : null,
    regression: options.regression
      ? {
          service: options.regression.service,
          operation: options.regression.operation,
          fromVersion: options.regression.fromVersion,
          toVersion: options.regression.toVersion,
          factor: options.regression.factor,
          deployUs,
        }
      : null,
    control: options.regression ? { service: options.regression.service, operation: options.regression.control } : null,
    correlations: corr,
    capacity: options.capacity
      ? { ...splitOperation(options.capacity.operation), kneeRatePerS: options.capacity.ratePerS }
      : null,
    clockSkewUs,
    sampling: threshold === null ? null : { threshold, probability: samplingProbability },
    requests,
  };
  return { spans, truth };
}
