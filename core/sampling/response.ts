// Response-time bias: a span the head decision dropped is still kept when its own response
// shows an error or is slow. Every meshtrace hop applies this to its own span, so the whole
// path of a failing or slow call is kept hop by hop (each ancestor sees the 5xx or the delay)
// without a central tail-sampling buffer.
import type { KeptBy, Outcome } from './types.ts';

export interface ErrorBiasConfig {
  enabled: boolean;
  /** Lowest HTTP status counted as an error. */
  httpStatusMin: number;
  /** Keep non-OK gRPC statuses (grpc-status ≠ 0). */
  grpc: boolean;
  /** Keep resets, connection failures and proxy timeouts. */
  reset: boolean;
}

export interface LatencyConfig {
  /** Global threshold; null = latency bias off unless a route matches. */
  thresholdMs: number | null;
  /** Per-route thresholds, first matching path prefix (or route name) wins over the global one. */
  routes: ReadonlyArray<{ pathPrefix: string | null; route: string | null; thresholdMs: number }>;
}

export function isError(o: Outcome, c: ErrorBiasConfig): boolean {
  if (!c.enabled) return false;
  if (c.reset && (o.reset === true || o.status === 0)) return true;
  if (o.status >= c.httpStatusMin) return true;
  return c.grpc && o.grpcStatus !== undefined && o.grpcStatus !== null && o.grpcStatus !== 0;
}

export function latencyThreshold(c: LatencyConfig, path: string, route: string | undefined): number | null {
  for (const r of c.routes) {
    if (r.route !== null && r.route === route) return r.thresholdMs;
    if (r.pathPrefix !== null && path.startsWith(r.pathPrefix)) return r.thresholdMs;
  }
  return c.thresholdMs;
}

/** The response-time reason to keep, or null. Error wins over latency. */
export function responseKeep(
  o: Outcome,
  err: ErrorBiasConfig,
  lat: LatencyConfig,
  path: string,
  route: string | undefined,
): KeptBy | null {
  if (isError(o, err)) return 'error';
  const t = latencyThreshold(lat, path, route);
  return t !== null && o.durationMs >= t ? 'latency' : null;
}
