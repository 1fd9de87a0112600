// Last line of defence against credential leaks: whatever an enricher produced, an attribute
// whose value contains a credential seen on this request (Authorization/Cookie values, the JWT,
// redacted query values) is dropped. Enrichers already avoid these; this catches a future
// enricher (or an allow-listed custom header) that echoes one.
import { SECRET_HEADERS } from '../config.ts';
import type { Headers } from '../headers.ts';
import type { Attrs } from './types.ts';

/** Shorter fragments would match ordinary values ("1", "en") and drop harmless attributes. */
const MIN_SECRET_LENGTH = 6;

export function secretsOf(headers: Headers, extra: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of SECRET_HEADERS) {
    const values = headers.get(name);
    if (values === undefined) continue;
    for (const v of values) {
      const value = v.trim();
      addSecret(out, value);
      // "Bearer abc", "Basic abc" → also the credential alone.
      addSecret(out, /^\S+\s+(\S+)$/.exec(value)?.[1]);
      if (name === 'cookie')
        for (const c of v.split(';')) {
          const eq = c.indexOf('=');
          if (eq >= 0) addSecret(out, c.slice(eq + 1).trim());
        }
    }
  }
  for (const e of extra) addSecret(out, e);
  return out;
}

// A module function, not a closure per call: see hop-trace.ts on tsx's keepNames.
function addSecret(out: string[], s: string | undefined): void {
  if (s && s.length >= MIN_SECRET_LENGTH) out.push(s);
}

/** Removes attributes whose value contains any secret; returns how many were removed. */
export function dropSecrets(attrs: Attrs, secrets: readonly string[]): number {
  if (secrets.length === 0) return 0;
  let dropped = 0;
  for (const [k, v] of Object.entries(attrs)) {
    const values = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    if (values.some((s) => secrets.some((sec) => s.includes(sec)))) {
      delete attrs[k];
      dropped++;
    }
  }
  return dropped;
}
