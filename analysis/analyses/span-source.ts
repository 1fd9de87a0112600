// Where analyses get spans from. The CLI reads through this interface so the same commands
// work on generator output files today and on the collector's store (or a Jaeger query API)
// through an adapter implementing `readSpans`.
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Span } from '../model.ts';

export interface SpanQuery {
  /** Spans starting in [startUs, endUs). */
  startUs?: number;
  endUs?: number;
  service?: string;
}

export interface SpanBatch {
  spans: Span[];
  /** Records that could not be read, each naming where and what ("file:line: reason"). */
  problems: string[];
}

export interface SpanSource {
  describe(): string;
  readSpans(query?: SpanQuery): Promise<SpanBatch>;
}

const MAX_PROBLEMS = 100;
const MAX_JSON_FILE_BYTES = 512 * 1024 * 1024; // a .json file is parsed whole; .jsonl streams
export const DEFAULT_MAX_SPANS = 5_000_000; // analyses hold spans in memory: bound them
const KINDS = new Set(['internal', 'server', 'client', 'producer', 'consumer', 'unspecified']);
const STATUSES = new Set(['unset', 'ok', 'error']);

/** Null when `v` is a usable Span, else what is wrong with it. */
export function spanProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const s = v as Record<string, unknown>;
  if (typeof s.traceId !== 'string' || !/^[0-9a-f]{32}$/.test(s.traceId))
    return 'traceId must be 32 lowercase hex digits';
  if (typeof s.spanId !== 'string' || !/^[0-9a-f]{16}$/.test(s.spanId)) return 'spanId must be 16 lowercase hex digits';
  if (s.parentSpanId !== null && (typeof s.parentSpanId !== 'string' || !/^[0-9a-f]{16}$/.test(s.parentSpanId)))
    return 'parentSpanId must be null or 16 lowercase hex digits';
  if (typeof s.name !== 'string') return 'name must be a string';
  if (typeof s.service !== 'string') return 'service must be a string';
  if (typeof s.kind !== 'string' || !KINDS.has(s.kind)) return `kind must be one of ${[...KINDS].join(', ')}`;
  if (typeof s.status !== 'string' || !STATUSES.has(s.status)) return 'status must be unset, ok or error';
  if (typeof s.startUs !== 'number' || !Number.isFinite(s.startUs)) return 'startUs must be a number';
  if (typeof s.endUs !== 'number' || !Number.isFinite(s.endUs)) return 'endUs must be a number';
  if (s.endUs < s.startUs) return 'endUs is before startUs';
  for (const k of ['attributes', 'resource'] as const) {
    if (typeof s[k] !== 'object' || s[k] === null || Array.isArray(s[k])) return `${k} must be an object`;
  }
  if (!Array.isArray(s.events) || !Array.isArray(s.links)) return 'events and links must be arrays';
  return null;
}

function matches(s: Span, q: SpanQuery): boolean {
  if (q.startUs !== undefined && s.startUs < q.startUs) return false;
  if (q.endUs !== undefined && s.startUs >= q.endUs) return false;
  if (q.service !== undefined && s.service !== q.service) return false;
  return true;
}

/**
 * Spans from JSON files: a `.jsonl` file (one span per line), a `.json` file (an array of
 * spans, or an object with a `spans` array), or a directory of such files (not recursive;
 * `ground-truth.json` is skipped). A bad record is reported and skipped, the rest are read.
 */
export class FileSpanSource implements SpanSource {
  constructor(
    private readonly path: string,
    private readonly maxSpans = DEFAULT_MAX_SPANS,
  ) {}

  describe(): string {
    return `files at ${this.path}`;
  }

  private files(): string[] {
    const st = statSync(this.path); // throws ENOENT with the path in the message
    if (st.isFile()) return [this.path];
    return readdirSync(this.path)
      .filter((f) => (f.endsWith('.jsonl') || f.endsWith('.json')) && f !== 'ground-truth.json')
      .sort()
      .map((f) => join(this.path, f));
  }

  async readSpans(query: SpanQuery = {}): Promise<SpanBatch> {
    const spans: Span[] = [];
    const problems: string[] = [];
    let more = 0;
    let overLimit = 0;
    const problem = (p: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
      else more++;
    };
    const take = (v: unknown, where: string) => {
      const why = spanProblem(v);
      if (why !== null) problem(`${where}: ${why}`);
      else if (!matches(v as Span, query)) return;
      else if (spans.length >= this.maxSpans) overLimit++;
      else spans.push(v as Span);
    };
    const files = this.files();
    if (files.length === 0) throw new Error(`no .json or .jsonl span files in ${this.path}`);
    for (const file of files) {
      if (file.endsWith('.jsonl')) {
        let lineNo = 0;
        for await (const raw of createInterface({
          input: createReadStream(file, 'utf8'),
          crlfDelay: Number.POSITIVE_INFINITY,
        })) {
          lineNo++;
          const line = raw.trim();
          if (line === '') continue;
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch (e) {
            problem(`${file}:${lineNo}: not JSON (${(e as Error).message})`);
            continue;
          }
          take(v, `${file}:${lineNo}`);
        }
        continue;
      }
      const size = statSync(file).size;
      if (size > MAX_JSON_FILE_BYTES) {
        problem(
          `${file}: ${size} bytes is more than ${MAX_JSON_FILE_BYTES} for a .json file; use .jsonl (one span per line)`,
        );
        continue;
      }
      let v: unknown;
      try {
        v = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        problem(`${file}: not JSON (${(e as Error).message})`);
        continue;
      }
      const list = Array.isArray(v) ? v : (v as { spans?: unknown })?.spans;
      if (!Array.isArray(list)) {
        problem(`${file}: expected an array of spans or an object with a "spans" array`);
        continue;
      }
      for (const [i, item] of list.entries()) take(item, `${file}[${i}]`);
    }
    if (more > 0) problems.push(`… and ${more} more problems`);
    if (overLimit > 0) problems.push(`${overLimit} spans left out: more than ${this.maxSpans} spans (the limit)`);
    return { spans, problems };
  }
}

/** Spans held in memory (an embedding application, or a test feeding the alert engine). */
export class MemorySpanSource implements SpanSource {
  private spans: Span[] = [];

  describe(): string {
    return `${this.spans.length} spans in memory`;
  }

  replace(spans: readonly Span[]): void {
    this.spans = [...spans];
  }

  add(spans: readonly Span[]): void {
    this.spans.push(...spans);
  }

  async readSpans(query: SpanQuery = {}): Promise<SpanBatch> {
    return { spans: this.spans.filter((s) => matches(s, query)), problems: [] };
  }
}
