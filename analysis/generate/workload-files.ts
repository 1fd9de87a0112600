// Generator output on disk: `spans.jsonl` (one Span as JSON per line — streamable, and a
// damaged line costs one span, not the file) and `ground-truth.json` beside it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workload } from './workload.ts';

export const SPANS_FILE = 'spans.jsonl';
export const TRUTH_FILE = 'ground-truth.json';

export function writeWorkload(dir: string, w: Workload): { spansPath: string; truthPath: string } {
  mkdirSync(dir, { recursive: true });
  const spansPath = join(dir, SPANS_FILE);
  const truthPath = join(dir, TRUTH_FILE);
  const lines: string[] = [];
  for (const s of w.spans) lines.push(JSON.stringify(s));
  writeFileSync(spansPath, lines.length ? `${lines.join('\n')}\n` : '');
  writeFileSync(truthPath, `${JSON.stringify(w.truth, null, 2)}\n`);
  return { spansPath, truthPath };
}
