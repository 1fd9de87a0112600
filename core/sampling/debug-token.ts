// Signed debug tokens: how a client at an untrusted edge earns the right to force sampling.
//
//   token   = "v1." key_id "." exp "." subject "." signature
//   exp     = expiry, Unix seconds (decimal)
//   subject = [A-Za-z0-9_-]{0,64}  (who asked: shown on the span as meshtrace.debug.subject)
//   signature = base64url(HMAC-SHA256(secret[key_id], "v1." key_id "." exp "." subject)), no padding
//
// Valid iff the key id is configured, the signature matches (constant-time compare), now < exp,
// and exp − now ≤ max_ttl_s (a leaked token cannot live forever).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DebugTokenKeys {
  /** key id → secret (UTF-8). */
  keys: ReadonlyMap<string, string>;
  maxTtlS: number;
}

export type TokenVerdict =
  | { valid: true; subject: string; keyId: string }
  | { valid: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'ttl_too_long' };

const SHAPE = /^v1\.([A-Za-z0-9_-]{1,32})\.(\d{1,12})\.([A-Za-z0-9_-]{0,64})\.([A-Za-z0-9_-]{43})$/;

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function signDebugToken(keyId: string, secret: string, expS: number, subject = ''): string {
  const payload = `v1.${keyId}.${Math.trunc(expS)}.${subject}`;
  return `${payload}.${sign(secret, payload)}`;
}

export function verifyDebugToken(token: string, cfg: DebugTokenKeys, nowMs = Date.now()): TokenVerdict {
  const m = SHAPE.exec(token.trim());
  if (m === null) return { valid: false, reason: 'malformed' };
  const [, keyId, expText, subject, sig] = m as unknown as [string, string, string, string, string];
  const secret = cfg.keys.get(keyId);
  if (secret === undefined) return { valid: false, reason: 'unknown_key' };
  const expected = Buffer.from(sign(secret, `v1.${keyId}.${expText}.${subject}`));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { valid: false, reason: 'bad_signature' };
  }
  const nowS = nowMs / 1000;
  const exp = Number(expText);
  if (nowS >= exp) return { valid: false, reason: 'expired' };
  if (exp - nowS > cfg.maxTtlS) return { valid: false, reason: 'ttl_too_long' };
  return { valid: true, subject, keyId };
}
