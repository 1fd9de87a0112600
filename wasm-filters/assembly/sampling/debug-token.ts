// Signed debug tokens (core/sampling/debug-token.ts has the same format and checks):
//   token     = "v1." key_id "." exp "." subject "." signature
//   key_id    = [A-Za-z0-9_-]{1,32}, exp = 1–12 decimal digits (Unix s), subject = [A-Za-z0-9_-]{0,64}
//   signature = base64url(HMAC-SHA256(secret, "v1." key_id "." exp "." subject)), 43 chars, no padding
// Valid iff the shape matches, the key is configured, the signature matches (constant time),
// now < exp and exp − now ≤ max_ttl_s.
import { base64url, constantTimeEquals, hmacSha256, utf8 } from './sha256';

export const TOKEN_VALID = '';

export class TokenVerdict {
  /** "" when valid, else malformed | unknown_key | bad_signature | expired | ttl_too_long */
  reason: string = 'malformed';
  subject: string = '';
}

function idChars(s: string, minLen: i32, maxLen: i32): bool {
  if (s.length < minLen || s.length > maxLen) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2d;
    if (!ok) return false;
  }
  return true;
}

function isTrimmable(c: i32): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0xa0 || c == 0xfeff;
}

export function verifyDebugToken(
  raw: string,
  keyIds: string[],
  secrets: string[],
  maxTtlS: f64,
  nowMs: f64,
): TokenVerdict {
  const v = new TokenVerdict();
  let a = 0;
  let b = raw.length;
  while (a < b && isTrimmable(raw.charCodeAt(a))) a++;
  while (b > a && isTrimmable(raw.charCodeAt(b - 1))) b--;
  const token = raw.substring(a, b);
  const parts = token.split('.');
  if (parts.length != 5 || parts[0] != 'v1') return v;
  const keyId = parts[1];
  const exp = parts[2];
  const subject = parts[3];
  const sig = parts[4];
  if (!idChars(keyId, 1, 32) || !idChars(subject, 0, 64) || !idChars(sig, 43, 43)) return v;
  if (exp.length < 1 || exp.length > 12) return v;
  for (let i = 0; i < exp.length; i++) {
    const c = exp.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return v;
  }
  const k = keyIds.indexOf(keyId);
  if (k < 0) {
    v.reason = 'unknown_key';
    return v;
  }
  const payload = token.substring(0, token.length - sig.length - 1);
  const expected = base64url(hmacSha256(utf8(secrets[k]), utf8(payload)));
  if (!constantTimeEquals(expected, sig)) {
    v.reason = 'bad_signature';
    return v;
  }
  const nowS = nowMs / 1000;
  let expS: f64 = 0; // ≤ 12 digits: exact in a double
  for (let i = 0; i < exp.length; i++) expS = expS * 10 + <f64>(exp.charCodeAt(i) - 0x30);
  if (nowS >= expS) v.reason = 'expired';
  else if (expS - nowS > maxTtlS) v.reason = 'ttl_too_long';
  else {
    v.reason = TOKEN_VALID;
    v.subject = subject;
  }
  return v;
}
