// The span attributes of the linking input contract (README.md) and their readers. Readers
// never throw: a span that does not carry the contract is simply not a linking input.
import type { Span } from '../model.ts';

export const WORKLOAD = 'meshtrace.workload';
export const PROVISIONAL = 'meshtrace.link.provisional';
export const CANDIDATES = 'meshtrace.link.candidates';
export const CONFIDENCE = 'meshtrace.link.confidence';
export const INFERRED = 'meshtrace.link.inferred';
/** How the sidecar decided (wasm-filters/assembly/linking/linker.ts): none, single, model, provisional. */
export const METHOD = 'meshtrace.link.method';
/** What a sidecar's model link rests on: `value` (an id passed on) or `rules`. */
export const EVIDENCE = 'meshtrace.link.evidence';
/** Who linked an inferred edge: `collector` for the offline pass (absent = the sidecar, online). */
export const SOURCE = 'meshtrace.link.source';

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

/**
 * An outbound→inbound edge known for sure: the app forwarded the context (no linking method
 * recorded), or the sidecar linked it while only one request was in flight (`single`). Model
 * links and offline links are guesses and never train the model.
 */
export const isCertainCall = (s: Span): boolean => {
  if (s.kind !== 'client' || s.parentSpanId === null) return false;
  const method = s.attributes[METHOD];
  if (method === 'single') return true;
  return method === undefined && s.attributes[INFERRED] !== true;
};

/** A call whose parent is a guess or unknown: its workload's requests in flight then are not clean samples. */
export const isUncertainCall = (s: Span): boolean =>
  s.kind === 'client' &&
  (s.attributes[PROVISIONAL] === true || (s.attributes[INFERRED] === true && s.attributes[METHOD] !== 'single'));

/**
 * The operation of a span for the call model. A span named only by its method (no route
 * template: semconv names an HTTP span `{method} {http.route}` or just `{method}`) gets its
 * url.path with every digit-bearing segment as `*`, and for a client span the server it calls —
 * the same operation the sidecar's filter learns online (wasm-filters/assembly/linking/operation.ts).
 */
export const operationOf = (s: Span): string => {
  if (s.name.includes(' ')) return s.name;
  const path = s.attributes['url.path'];
  if (typeof path !== 'string') return s.name;
  const template = path
    .split('?')[0]!
    .split('/')
    .map((seg) => (/[0-9]/.test(seg) ? '*' : seg))
    .join('/');
  const server = s.kind === 'client' ? s.attributes['server.address'] : undefined;
  return typeof server === 'string' ? `${s.name} ${server}${template}` : `${s.name} ${template}`;
};
