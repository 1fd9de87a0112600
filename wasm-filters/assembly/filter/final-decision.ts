// The seam between sampling and export at the end of a stream. At on_log the filter has the
// head decision (made at request headers) and a SpanRecord with the response code and timing;
// finalDecision says whether the span is exported and why (`meshtrace.sampling.reason`).
//
// Default until the sampling section lands: keep exactly the requests whose head decision was
// "sampled" (the propagated flag), reason "parent" when a caller decided, "head" when this
// proxy started the trace. The sampling module replaces this function's body.
import { SpanRecord } from '../export/span-record';

export class FinalDecision {
  keep: bool = false;
  /** Why the span was kept (a `kept_by` value of core/sampling); "" when dropped. */
  reason: string = '';
  /** The consistent-probability threshold (`ot=th`) in force, "" when none. */
  threshold: string = '';
}

export function finalDecision(headSampled: bool, continued: bool, record: SpanRecord): FinalDecision {
  const d = new FinalDecision();
  d.keep = headSampled;
  if (headSampled) d.reason = continued ? 'parent' : 'head';
  return d;
}
