// The request target → url.path / url.query with credential-bearing parameters redacted
// (OTel semconv: url.query "MUST have sensitive information redacted"). Redaction keeps the
// parameter name so the shape of the call stays visible; the removed values are returned so the
// secret guard can make sure they appear nowhere else.
import { type Attrs, truncate } from './types.ts';

export const REDACTED = 'REDACTED';

export interface UrlParts {
  attrs: Attrs;
  /** Raw values removed by redaction (fed to the secret guard, never recorded). */
  removed: string[];
  path: string;
}

export function urlAttributes(target: string, redact: readonly string[], maxBytes: number): UrlParts {
  const hash = target.indexOf('#');
  const noFragment = hash >= 0 ? target.slice(0, hash) : target;
  const q = noFragment.indexOf('?');
  const path = q >= 0 ? noFragment.slice(0, q) : noFragment;
  const attrs: Attrs = { 'url.path': truncate(path, maxBytes) };
  const removed: string[] = [];
  if (q >= 0) {
    const parts = noFragment
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const rawName = eq >= 0 ? pair.slice(0, eq) : pair;
        let name: string;
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, ' ')).toLowerCase();
        } catch {
          name = rawName.toLowerCase();
        }
        if (eq >= 0 && redact.includes(name)) {
          const value = pair.slice(eq + 1);
          if (value.length > 0) {
            removed.push(value);
            try {
              const decoded = decodeURIComponent(value.replace(/\+/g, ' '));
              if (decoded !== value) removed.push(decoded);
            } catch {
              // the raw form is already recorded for the guard
            }
          }
          return `${rawName}=${REDACTED}`;
        }
        return pair;
      });
    attrs['url.query'] = truncate(parts.join('&'), maxBytes);
  }
  return { attrs, removed, path };
}
