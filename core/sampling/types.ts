// Shapes shared by the samplers. A request is decided twice:
//   head  ─ when the request arrives (propagated downstream in the sampled flag + `ot=th`)
//   final ─ when the response is known (error / latency can still keep a head-dropped span)

/** Why a span was kept; recorded on the span as `meshtrace.sampling.kept_by`. */
export type KeptBy = 'debug' | 'rule' | 'parent' | 'probability' | 'error' | 'latency';
/** Why a span was not kept; counted. */
export type DroppedBy = 'rule' | 'parent' | 'probability' | 'cost_cap';

/** The inbound trace context after the trust boundary (null when none or not honoured). */
export interface InboundContext {
  sampled: boolean | null;
  debug: boolean;
  random: boolean;
  tracestate: string;
}

export interface SamplingRequest {
  method: string;
  /** Path without query string. */
  path: string;
  authority: string;
  /** Header value by lowercase name (first value when repeated). */
  header(name: string): string | undefined;
  /** Trace id (32 lowercase hex) the span of this hop will carry. */
  traceId: string;
  /** Inbound context the trust boundary lets us honour (parent decision, ot=th). */
  parent: InboundContext | null;
  /** True when the source is trusted: an internal listener, or an edge with a valid debug token. */
  trusted: boolean;
  /** Subject of a valid signed debug token (edge); a valid token forces a debug keep. */
  debugTokenSubject?: string;
  /** Route name for per-route latency thresholds and cost caps (defaults to the path). */
  route?: string;
  /** Service name for per-service cost caps. */
  service?: string;
  nowMs?: number;
}

export interface HeadDecision {
  sampled: boolean;
  keptBy: KeptBy | null;
  droppedBy: DroppedBy | null;
  /** Name of the rule that decided, when a rule did. */
  rule?: string;
  /** Outbound tracestate: `ot=th` written when kept by probability or honoured parent threshold, erased otherwise. */
  tracestate: string;
}

export interface Outcome {
  /** HTTP status sent downstream (0 when none was sent). */
  status: number;
  /** gRPC status from grpc-status (trailers or headers), when the call was gRPC. */
  grpcStatus?: number | null;
  /** Stream reset / connection error / proxy timeout before a full response. */
  reset?: boolean;
  durationMs: number;
}

export interface FinalDecision {
  sampled: boolean;
  keptBy: KeptBy | null;
  droppedBy: DroppedBy | null;
}

/** A head-time strategy: a decision, or null to delegate to the next one. */
export interface HeadStrategy {
  decide(req: SamplingRequest): HeadDecision | null;
  toString(): string;
}
