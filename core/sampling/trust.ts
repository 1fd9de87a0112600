// Trust boundary. An edge listener faces clients: their sampled/debug flags and ot=th are
// advice at best and an attack at worst (forcing 100 % tracing). Only a valid signed debug
// token (debug-token.ts) makes an edge request trusted. Internal listeners trust their callers.
//
//                 inbound valid context          no / invalid token at the edge
//   internal  ─→  parent, flags honoured         (n/a)
//   edge      ─→  token valid: as internal       inbound_context=parent: same trace id,
//                                                  flags and ot dropped, sampler decides
//                                                inbound_context=link: new trace, inbound
//                                                  context recorded as a span link
import { type DebugTokenKeys, verifyDebugToken } from './debug-token.ts';
import type { InboundContext } from './types.ts';

export interface TrustConfig {
  boundary: 'edge' | 'internal';
  inboundContext: 'parent' | 'link';
  /** Header carrying the signed debug token; null when tokens are not configured. */
  tokenHeader: string | null;
  tokens: DebugTokenKeys;
}

/** What the codec found inbound (only the fields the boundary needs). */
export interface ExtractedContext {
  valid: boolean;
  sampled: boolean | null;
  debug: boolean;
  random: boolean;
  tracestate: string;
}

export interface TrustVerdict {
  trusted: boolean;
  /** How the span attaches to a valid inbound context. */
  attach: 'parent' | 'link' | 'none';
  /** What the samplers may honour (null: decide as a root). */
  honoured: InboundContext | null;
  debugTokenSubject?: string;
  /** Why a present token was refused (counted; never the token itself). */
  tokenRejected?: string;
}

function asParent(c: ExtractedContext): InboundContext {
  return { sampled: c.sampled, debug: c.debug, random: c.random, tracestate: c.tracestate };
}

/** A normalised tracestate without the `ot` member (its rv/th are client-chosen at an edge). */
function withoutOt(tracestate: string): string {
  if (tracestate === '') return '';
  return tracestate
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '' && !m.startsWith('ot='))
    .join(',');
}

export function assessTrust(
  cfg: TrustConfig,
  inbound: ExtractedContext | null,
  header: (name: string) => string | undefined,
  nowMs = Date.now(),
): TrustVerdict {
  const ctx = inbound?.valid ? inbound : null;
  if (cfg.boundary === 'internal') {
    return { trusted: true, attach: ctx ? 'parent' : 'none', honoured: ctx ? asParent(ctx) : null };
  }
  const token = cfg.tokenHeader === null ? undefined : header(cfg.tokenHeader);
  let tokenRejected: string | undefined;
  if (token !== undefined && token !== '') {
    const v = verifyDebugToken(token, cfg.tokens, nowMs);
    if (v.valid) {
      return {
        trusted: true,
        attach: ctx ? 'parent' : 'none',
        honoured: ctx ? asParent(ctx) : null,
        debugTokenSubject: v.subject,
      };
    }
    tokenRejected = v.reason;
  }
  let verdict: TrustVerdict;
  if (ctx === null) verdict = { trusted: false, attach: 'none', honoured: null };
  else if (cfg.inboundContext === 'link') verdict = { trusted: false, attach: 'link', honoured: null };
  else {
    // Same trace, but nothing the client said about sampling is believed (ot dropped: rv/th are client-chosen).
    verdict = {
      trusted: false,
      attach: 'parent',
      honoured: { sampled: null, debug: false, random: ctx.random, tracestate: withoutOt(ctx.tracestate) },
    };
  }
  if (tokenRejected !== undefined) verdict.tokenRejected = tokenRejected;
  return verdict;
}
