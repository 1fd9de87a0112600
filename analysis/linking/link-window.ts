// The offline half in one call: learn the call model, assign the provisional calls of a window
// globally, re-parent them (README.md "Pipeline"). The collector runs it over each settled
// window of its store; benches and tests run it over spans in memory.
import type { Span } from '../model.ts';
import { type AssignOptions, assignProvisional, type Link, type Unlinked } from './assign.ts';
import { type CallModel, learnCallModel } from './call-model.ts';
import { relink } from './relink.ts';

export interface LinkWindowOptions extends AssignOptions {
  /** A model learned elsewhere; default: learned from `history` plus the window. */
  model?: CallModel;
  /** Spans seen before the window (certain edges from them train the model too). */
  history?: readonly Span[];
}

export interface LinkWindowResult {
  /** The window's spans after re-parenting (new objects; the input is never mutated). */
  value: Span[];
  links: Link[];
  unlinked: Unlinked[];
  errors: string[];
}

export function linkWindow(spans: readonly Span[], options: LinkWindowOptions = {}): LinkWindowResult {
  const model = options.model ?? learnCallModel(options.history ? [...options.history, ...spans] : spans);
  const assignment = assignProvisional(spans, model, options);
  const relinked = relink(spans, assignment.links);
  return {
    value: relinked.value,
    links: assignment.links,
    unlinked: assignment.unlinked,
    errors: [...assignment.errors, ...relinked.errors],
  };
}
