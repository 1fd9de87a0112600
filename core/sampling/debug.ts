// Debug sampling: forces a keep for chosen users, operations or an explicit debug header —
// only from trusted sources (req.trusted: an internal listener, or an edge request carrying a
// valid signed debug token, which is itself a debug request). Untrusted triggers are ignored,
// so a client cannot buy full tracing by sending a header.
import { writeOtThreshold } from './threshold.ts';
import type { HeadDecision, HeadStrategy, SamplingRequest } from './types.ts';

export interface DebugConfig {
  /** Header whose presence (any value except "0"/"false") forces a keep. */
  header: string | null;
  /** Header carrying the user id, compared against `users`. */
  userHeader: string | null;
  /** JWT claim compared against `users`; the JWT is read (not verified) from `jwtHeader`. */
  jwtClaim: string | null;
  jwtHeader: string;
  users: ReadonlySet<string>;
  /** "METHOD /path-prefix" (METHOD may be "*"). */
  operations: ReadonlyArray<{ method: string; pathPrefix: string }>;
}

/** The claim's string value from a JWT in `value` ("Bearer " optional); null on any problem. */
export function jwtClaim(value: string | undefined, claim: string): string | null {
  if (!value) return null;
  const token = value.replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1]!.length > 8192) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (payload === null || typeof payload !== 'object') return null;
    const v = (payload as Record<string, unknown>)[claim];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
  } catch {
    return null;
  }
}

export class DebugSampler implements HeadStrategy {
  constructor(readonly config: DebugConfig) {}

  private triggered(req: SamplingRequest): boolean {
    if (req.debugTokenSubject !== undefined) return true;
    if (req.parent?.debug) return true;
    const c = this.config;
    if (c.header !== null) {
      const v = req.header(c.header);
      if (v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false') return true;
    }
    if (c.users.size > 0) {
      const u = c.userHeader === null ? undefined : req.header(c.userHeader);
      if (u !== undefined && c.users.has(u)) return true;
      const claim = c.jwtClaim === null ? null : jwtClaim(req.header(c.jwtHeader), c.jwtClaim);
      if (claim !== null && c.users.has(claim)) return true;
    }
    const method = req.method.toUpperCase();
    return c.operations.some((o) => (o.method === '*' || o.method === method) && req.path.startsWith(o.pathPrefix));
  }

  decide(req: SamplingRequest): HeadDecision | null {
    if (!req.trusted || !this.triggered(req)) return null;
    return {
      sampled: true,
      keptBy: 'debug',
      droppedBy: null,
      tracestate: writeOtThreshold(req.parent?.tracestate ?? '', null),
    };
  }

  toString(): string {
    const c = this.config;
    return `DebugSampler{header=${c.header}, user_header=${c.userHeader}, jwt_claim=${c.jwtClaim}, users=${c.users.size}, operations=${c.operations.length}}`;
  }
}
