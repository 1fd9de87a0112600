// The decoded trace context and the result of extracting one from request headers. Semantics
// (which fields, normalisation, reason codes) are fixed by test/vectors/README.md.

/** Sampling decision: yes, no, or none taken (deferred to us). */
export enum Sampled {
  Unset = -1,
  No = 0,
  Yes = 1,
}

// One shared empty list, so a context without baggage or reasons allocates no arrays (contexts
// are built on every request). Code replaces it by assignment and never mutates it.
export const NONE: string[] = [];

export class TraceContext {
  /** 32 lowercase hex; 64-bit ids are left-padded with zeros. */
  traceId: string = '';
  /** 16 lowercase hex: the caller's span, which becomes our parent. */
  spanId: string = '';
  sampled: Sampled = Sampled.Unset;
  debug: bool = false;
  /** W3C Trace Context Level 2 `random` flag (flags bit 0x02). */
  random: bool = false;
  /** Normalised tracestate ("" when none or dropped). */
  tracestate: string = '';
  /** Shared empty list until baggage is found: replaced by assignment, never pushed to. */
  baggageKeys: string[] = NONE;
  baggageValues: string[] = NONE;

  clearBaggage(): void {
    this.baggageKeys = NONE;
    this.baggageValues = NONE;
  }

  /** The same context with a different span id (the proxy's own span, as the new parent). */
  withSpanId(spanId: string): TraceContext {
    const c = new TraceContext();
    c.traceId = this.traceId;
    c.spanId = spanId;
    c.sampled = this.sampled;
    c.debug = this.debug;
    c.random = this.random;
    c.tracestate = this.tracestate;
    c.baggageKeys = this.baggageKeys;
    c.baggageValues = this.baggageValues;
    return c;
  }
}

export class ExtractResult {
  /** True when some format supplied a valid context. */
  valid: bool = false;
  /** Name of the format that supplied it ("" when none did). */
  format: string = '';
  context: TraceContext = new TraceContext();
  /** Problems seen while extracting, in the order found (reason codes). */
  reasons: string[] = NONE;
  /**
   * A sampling decision that came without a context (a lone B3 `0`/`1`/`d`): a new trace
   * started here may honour it.
   */
  orphanSampled: Sampled = Sampled.Unset;
  orphanDebug: bool = false;

  addReason(reason: string): void {
    if (this.reasons === NONE) this.reasons = [];
    this.reasons.push(reason);
  }
}
