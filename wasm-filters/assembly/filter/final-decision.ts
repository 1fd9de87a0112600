// The seam between sampling and export at the end of a stream. At on_log the filter has the
// head decision (made at request headers by the sampler, assembly/sampling/) and a SpanRecord
// with the response code and timing; finalDecision asks the sampler for this hop's final
// decision (core/sampling/README.md "Final": a head keep stays; a head drop is kept on error,
// else on latency) and says whether the span is exported and why (`meshtrace.sampling.reason`).
import { SpanRecord } from '../export/span-record';
import { Decision, DROPPED_BY, KEPT_BY, Outcome, Sampler, SamplingRequest } from '../sampling/sampler';

export class FinalDecision {
  keep: bool = false;
  /** Why the span was kept (a `kept_by` value of core/sampling); "" when dropped. */
  reason: string = '';
  /** Why it was not (a `dropped_by` value); "" when kept. */
  dropped: string = '';
  /** The same reasons as indexes into KEPT_BY / DROPPED_BY; -1 when none. */
  keptBy: i32 = -1;
  droppedBy: i32 = -1;
  /** The consistent-probability threshold (`ot=th`) that admitted it, "" when none. */
  threshold: string = '';
}

/** grpcStatus: -1 when the call was not gRPC (no grpc-status). */
export function finalDecision(
  sampler: Sampler,
  req: SamplingRequest,
  head: Decision,
  record: SpanRecord,
  grpcStatus: i32,
): FinalDecision {
  const o = new Outcome();
  o.status = record.httpStatus;
  o.grpcStatus = grpcStatus;
  // No response code at on_log = the stream ended without a response (reset, timeout).
  o.reset = record.httpStatus == 0;
  o.durationMs = <f64>(record.endNs - record.startNs) / 1e6;
  const f = sampler.final(req, head, o);
  const d = new FinalDecision();
  d.keep = f.sampled;
  d.keptBy = f.keptBy;
  d.droppedBy = f.droppedBy;
  if (f.keptBy >= 0) d.reason = KEPT_BY[f.keptBy];
  if (f.droppedBy >= 0) d.dropped = DROPPED_BY[f.droppedBy];
  d.threshold = f.th;
  return d;
}
