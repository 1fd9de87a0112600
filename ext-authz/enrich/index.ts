// The enrichment pipeline shared by ext_proc and ext_authz: request metadata in, a bounded,
// secret-free attribute set out (see types.ts). Order matters only for the secret guard, which
// runs last over everything.
import type { JWTPayload } from 'jose';
import type { ServiceConfig } from '../config.ts';
import { first, type Headers } from '../headers.ts';
import type { Metrics } from '../metrics.ts';
import { JwtEnricher, type JwtResult } from './jwt.ts';
import { headerAttributes } from './request-headers.ts';
import { dropSecrets, secretsOf } from './secret-guard.ts';
import { type Attrs, truncate } from './types.ts';
import { type UrlParts, urlAttributes } from './url.ts';

export interface HttpRequestView {
  method: string;
  /** Path with query, as sent (`:path`). */
  target: string;
  authority?: string;
  scheme?: string;
  headers: Headers;
  /** Attributes Envoy supplied (route, cluster, client address …), already mapped. */
  envoy: Attrs;
}

export interface Enrichment {
  attrs: Attrs;
  /** Path without the query string (for span names and policies). */
  path: string;
  jwt?: JWTPayload;
  /** Credentials seen on this request; used to scrub later attributes (e.g. from the body). */
  secrets: string[];
}

export class Enricher {
  private readonly jwt?: JwtEnricher;

  constructor(
    private readonly cfg: ServiceConfig,
    private readonly metrics: Metrics,
  ) {
    if (cfg.enrich.jwt) this.jwt = new JwtEnricher(cfg.enrich.jwt);
  }

  /** Synchronous unless a JWT has to be verified asynchronously (see jwt.ts). */
  request(req: HttpRequestView): Enrichment | Promise<Enrichment> {
    const e = this.cfg.enrich;
    const url = urlAttributes(req.target, e.redactQueryParams, 2048);
    const attrs: Attrs = {
      'http.request.method': req.method,
      ...url.attrs,
      ...req.envoy,
      ...headerAttributes(req.headers, e.headers, e.maxValueBytes),
    };
    if (req.authority) attrs['server.address'] = truncate(req.authority.replace(/:\d+$/, ''), 256);
    if (req.scheme) attrs['url.scheme'] = req.scheme;
    const ua = first(req.headers, 'user-agent');
    if (ua) attrs['user_agent.original'] = truncate(ua, e.maxValueBytes);
    const len = Number(first(req.headers, 'content-length'));
    if (Number.isFinite(len) && len >= 0) attrs['http.request.body.size'] = len;
    if (!this.jwt) return this.complete(req, attrs, url, undefined);
    const jwt = this.jwt.enrich(req.headers);
    // An inline arrow (not a named closure): see hop-trace.ts on tsx's keepNames.
    return jwt instanceof Promise
      ? jwt.then((r) => this.complete(req, attrs, url, r))
      : this.complete(req, attrs, url, jwt);
  }

  /** The JWT's attributes merged in, then the secret guard over everything. */
  private complete(req: HttpRequestView, attrs: Attrs, url: UrlParts, jwt: JwtResult | undefined): Enrichment {
    const extra = [...url.removed];
    if (jwt) {
      Object.assign(attrs, jwt.attrs);
      if (jwt.token) {
        extra.push(jwt.token);
        this.metrics.inc(jwt.verified ? 'jwt_verified_total' : 'jwt_unverified_total');
        if (jwt.cached) this.metrics.inc('jwt_cache_hits_total');
      }
    }
    const secrets = secretsOf(req.headers, extra);
    this.scrub(attrs, secrets);
    return { attrs, path: url.path, jwt: jwt?.verified, secrets };
  }

  scrub(attrs: Attrs, secrets: string[]) {
    const n = dropSecrets(attrs, secrets);
    if (n > 0) this.metrics.inc('secrets_dropped_total', n);
  }
}
