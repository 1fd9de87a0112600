// JWT claims → span attributes. A token is verified (signature, exp/nbf, and issuer/audience
// when configured) against the configured key source before its claims count; when verification
// fails, the mapped claims are still recorded but under `meshtrace.jwt.unverified.<attr>` with
// `meshtrace.jwt.verified=false`, so nobody mistakes a forged `sub` for a user. The token itself
// is never recorded.
//
// Verified tokens are remembered, as gateways do (Envoy's jwt_authn `jwt_cache_config`): a client
// sends the same token on every request until it expires, and an ES256 signature check cost
// ~170 µs of CPU per request under bench:ext-proc. The cache is keyed by the whole token (a
// forged token differs in its signature, so never hits), holds only tokens that verified, and
// trusts an entry until the token's `exp` or CACHE_MAX_AGE_MS after it verified, whichever comes
// first — so a key removed from a JWKS stops counting within that age. Bounded in entries
// (`enrich.jwt.cacheSize`, least recently used evicted) and in token size.
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { ConfigError, type JwtConfig } from '../config.ts';
import { first, type Headers } from '../headers.ts';
import { type Attrs, truncate } from './types.ts';

const MAX_TOKEN_BYTES = 16 * 1024;
const MAX_CLAIM_BYTES = 256;
/** Longest a verified token is trusted without checking it again. */
const CACHE_MAX_AGE_MS = 60_000;
/** Larger tokens are verified every time (keeps the cache within cacheSize × 4 KiB). */
const MAX_CACHED_TOKEN_BYTES = 4 * 1024;

interface Remembered {
  attrs: Attrs;
  payload: JWTPayload;
  /** Date.now() before which the entry may be used. */
  until: number;
}

export interface JwtResult {
  attrs: Attrs;
  /** Verified claims (for policies); undefined when no verified token was present. */
  verified?: JWTPayload;
  /** The raw token, for the secret guard only. */
  token?: string;
  /** The verification was remembered from an earlier request. */
  cached?: boolean;
}

export class JwtEnricher {
  private readonly key: JWTVerifyGetKey | Uint8Array;
  private readonly options: JWTVerifyOptions;
  /** Verified tokens, least recently used first. */
  private readonly verified = new Map<string, Remembered>();

  constructor(private readonly cfg: JwtConfig) {
    if (cfg.jwksFile !== undefined) {
      let jwks: unknown;
      try {
        jwks = JSON.parse(readFileSync(cfg.jwksFile, 'utf8'));
      } catch (err) {
        throw new ConfigError(
          'enrich.jwt.jwksFile',
          `cannot load JWKS from ${cfg.jwksFile}: ${(err as Error).message}`,
        );
      }
      try {
        this.key = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
      } catch (err) {
        throw new ConfigError('enrich.jwt.jwksFile', `${cfg.jwksFile} is not a JWK Set: ${(err as Error).message}`);
      }
    } else if (cfg.jwksUrl !== undefined) {
      this.key = createRemoteJWKSet(new URL(cfg.jwksUrl), { timeoutDuration: cfg.jwksTimeoutMs });
    } else {
      const name = cfg.secretEnv as string;
      const secret = process.env[name];
      if (!secret) throw new ConfigError('enrich.jwt.secretEnv', `environment variable ${name} is not set or empty`);
      this.key = new TextEncoder().encode(secret);
    }
    this.options = {
      issuer: cfg.issuer,
      audience: cfg.audience,
      algorithms: cfg.algorithms,
    };
  }

  /** The bearer token from the configured header, if any (bounded; oversize tokens are ignored). */
  token(headers: Headers): string | undefined {
    const raw = first(headers, this.cfg.header);
    if (!raw || raw.length > MAX_TOKEN_BYTES) return undefined;
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(raw);
    const token = m ? m[1] : raw.trim();
    return token && token.split('.').length === 3 ? token : undefined;
  }

  /** Synchronous when there is no token, or the token verified recently (see the cache above). */
  enrich(headers: Headers, now = Date.now()): JwtResult | Promise<JwtResult> {
    const token = this.token(headers);
    if (!token) return { attrs: {} };
    const hit = this.verified.get(token);
    if (hit !== undefined) {
      this.verified.delete(token);
      if (now < hit.until) {
        this.verified.set(token, hit);
        return { attrs: { ...hit.attrs }, verified: hit.payload, token, cached: true };
      }
    }
    return this.verify(token, now);
  }

  private async verify(token: string, now: number): Promise<JwtResult> {
    try {
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(token, this.key, this.options)
          : await jwtVerify(token, this.key, this.options);
      const attrs: Attrs = { ...this.mapClaims(payload, ''), 'meshtrace.jwt.verified': true };
      this.remember(token, attrs, payload, now);
      return { attrs: { ...attrs }, verified: payload, token };
    } catch (err) {
      let payload: JWTPayload | undefined;
      try {
        payload = decodeJwt(token);
      } catch {
        payload = undefined;
      }
      const attrs: Attrs = {
        'meshtrace.jwt.verified': false,
        'meshtrace.jwt.error': (err as { code?: string }).code ?? 'ERR_JWT_INVALID',
      };
      if (payload) Object.assign(attrs, this.mapClaims(payload, 'meshtrace.jwt.unverified.'));
      return { attrs, token };
    }
  }

  private remember(token: string, attrs: Attrs, payload: JWTPayload, now: number): void {
    const max = this.cfg.cacheSize;
    if (max === 0 || token.length > MAX_CACHED_TOKEN_BYTES) return;
    // jose rejects a token once its exp (seconds) is ≤ the current second: valid while now < exp·1000.
    const until = Math.min(now + CACHE_MAX_AGE_MS, typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity);
    if (this.verified.size >= max) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    // Shared by every request that hits the entry: nothing may change it.
    for (const v of Object.values(attrs)) if (Array.isArray(v)) Object.freeze(v);
    this.verified.set(token, { attrs: Object.freeze(attrs), payload: Object.freeze(payload), until });
  }

  private mapClaims(payload: JWTPayload, prefix: string): Attrs {
    const out: Attrs = {};
    for (const [claim, attr] of Object.entries(this.cfg.claims)) {
      const v = payload[claim];
      if (typeof v === 'string') out[prefix + attr] = truncate(v, MAX_CLAIM_BYTES);
      else if (typeof v === 'number' || typeof v === 'boolean') out[prefix + attr] = v;
      else if (Array.isArray(v))
        out[prefix + attr] = v
          .filter((x): x is string => typeof x === 'string')
          .slice(0, 16)
          .map((x) => truncate(x, MAX_CLAIM_BYTES));
    }
    return out;
  }
}
