// Whether a span failed. OTel status ERROR is authoritative; a server span without a status
// but with an HTTP 5xx response also counts (semantic conventions, "HTTP spans" § status:
// 5xx is an error for servers, while 4xx is the client's fault). Client spans are only
// judged by their status, because a 4xx the caller handled is not a failure.
import type { Span } from '../model.ts';

export function spanFailed(s: Pick<Span, 'status' | 'kind' | 'attributes'>): boolean {
  if (s.status === 'error') return true;
  if (s.status === 'ok' || s.kind !== 'server') return false;
  const code = s.attributes['http.response.status_code'] ?? s.attributes['http.status_code'];
  return typeof code === 'number' && code >= 500 && code <= 599;
}
