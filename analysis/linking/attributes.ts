// The span attributes of the linking input contract (README.md) and their readers. Readers
// never throw: a span that does not carry the contract is simply not a linking input.
import type { Span } from '../model.ts';

export const WORKLOAD = 'meshtrace.workload';
export const PROVISIONAL = 'meshtrace.link.provisional';
export const CANDIDATES = 'meshtrace.link.candidates';
export const CONFIDENCE = 'meshtrace.link.confidence';
export const INFERRED = 'meshtrace.link.inferred';

/** Bound on candidates read from one span: the sidecar caps the list, we refuse to trust more. */
export const MAX_CANDIDATES = 256;

export const workloadOf = (s: Span): string | null => {
  const w = s.attributes[WORKLOAD];
  return typeof w === 'string' && w !== '' ? w : null;
};

export const isProvisional = (s: Span): boolean => s.kind === 'client' && s.attributes[PROVISIONAL] === true;

/** Candidate inbound span ids, or null when the attribute is absent (then every in-flight inbound is one). */
export const candidatesOf = (s: Span): string[] | null => {
  const c = s.attributes[CANDIDATES];
  if (!Array.isArray(c)) return null;
  return c.filter((x): x is string => typeof x === 'string').slice(0, MAX_CANDIDATES);
};

/** Time containment, the hard constraint: a call made while serving a request lies inside it. */
export const contains = (inbound: Span, outbound: Span): boolean =>
  inbound.startUs <= outbound.startUs && outbound.endUs <= inbound.endUs;
