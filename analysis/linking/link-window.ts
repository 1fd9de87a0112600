// The offline half in one call: learn the trigger model, assign every uncertain call of a window
// (chain-model.ts, assign-chains.ts), re-parent. The collector runs it over each settled window
// of its store; benches and tests run it over spans in memory.
//
// Certain calls (the app forwarded context, or the sidecar linked it with one request in flight)
// stay as they are. Every other call is decided here: linked when the offline pass is confident;
// otherwise left — or, for an online model link it cannot confirm, made — provisional, because a
// wrong link is worse than none.
import type { Span } from '../model.ts';
import { isProvisional } from './attributes.ts';
import type { Link } from './assign.ts';
import { type ChainAssignOptions, type ChainUnlinked, assignByChains } from './assign-chains.ts';
import { type ChainModel, learnChainModel } from './chain-model.ts';
import { type Detach, relink } from './relink.ts';

export interface LinkWindowOptions extends ChainAssignOptions {
  /** A model learned elsewhere; default: learned from `history` plus the window. */
  model?: ChainModel;
  /** Spans seen before the window (certain requests in them train the model too). */
  history?: readonly Span[];
}

export interface LinkWindowResult {
  /** The window's spans after re-parenting (new objects; the input is never mutated). */
  value: Span[];
  links: Link[];
  /** Calls left (or made) provisional, with why. */
  unlinked: ChainUnlinked[];
  /** Online links the offline pass could not confirm, now provisional. */
  detached: Detach[];
  errors: string[];
}

export function linkWindow(spans: readonly Span[], options: LinkWindowOptions = {}): LinkWindowResult {
  const model = options.model ?? learnChainModel(options.history ? [...options.history, ...spans] : spans);
  const assignment = assignByChains(spans, model, options);
  const byKey = new Map(spans.map((s) => [`${s.traceId}:${s.spanId}`, s]));
  const detached: Detach[] = [];
  for (const u of assignment.unlinked) {
    const s = byKey.get(`${u.outboundTraceId}:${u.outboundSpanId}`);
    if (s !== undefined && !isProvisional(s) && s.parentSpanId !== null)
      detached.push({ traceId: s.traceId, spanId: s.spanId });
  }
  const relinked = relink(spans, assignment.links, detached);
  return {
    value: relinked.value,
    links: assignment.links,
    unlinked: assignment.unlinked,
    detached,
    errors: [...assignment.errors, ...relinked.errors],
  };
}
