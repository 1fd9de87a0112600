// Query-string parsing for the Jaeger-compatible API, with Jaeger's conventions:
//   start, end     µs since the epoch (Jaeger UI sends µs); endTs, lookback on
//                  /api/dependencies are ms
//   minDuration    Go duration syntax ("1.2s", "500ms", "250us", "1h30m")
//   lookback       Go duration, plus Jaeger UI's "2d" / "1w"; "custom" means start/end are set
//   tags           JSON object {"http.status_code":"500"}, or repeated tag=key:value
//   limit          1 … MAX_LIMIT (Jaeger UI's default is 20)
// Every failure is a QueryError naming the parameter, turned into a 400 by the server.

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 20;

export class QueryError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const UNIT_US: Record<string, number> = {
  ns: 0.001,
  us: 1,
  µs: 1,
  μs: 1,
  ms: 1000,
  s: 1e6,
  m: 60e6,
  h: 3600e6,
  d: 86_400e6,
  w: 604_800e6,
};

/** Go duration (time.ParseDuration) in µs, also taking d and w; null when malformed. */
export function parseDurationUs(text: string): number | null {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNIT_US[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 || !Number.isFinite(total) ? null : total;
}

export function durationParam(params: URLSearchParams, name: string): number | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const us = parseDurationUs(v);
  if (us === null) {
    throw new QueryError(name, `${name}: "${v}" is not a duration (use Go syntax such as 500ms, 1.5s, 250us, 1h30m)`);
  }
  return us;
}

/** A non-negative integer parameter (µs or ms timestamps, counts). */
export function integerParam(params: URLSearchParams, name: string, what: string): number | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,17}$/.test(v)) throw new QueryError(name, `${name}: "${v}" is not ${what} (a non-negative integer)`);
  return Number(v);
}

export function limitParam(params: URLSearchParams): number {
  const v = integerParam(params, 'limit', 'a trace count');
  if (v === undefined || v === 0) return DEFAULT_LIMIT;
  if (v > MAX_LIMIT) throw new QueryError('limit', `limit: ${v} is too large (at most ${MAX_LIMIT})`);
  return v;
}

/** Jaeger's `tags` JSON object and/or repeated `tag=key:value`. */
export function tagsParam(params: URLSearchParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const json = params.get('tags');
  if (json !== null && json !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new QueryError('tags', `tags: not a JSON object (expected e.g. {"http.status_code":"500"}): ${json}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new QueryError('tags', 'tags: must be a JSON object of key → value');
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new QueryError('tags', `tags: value of "${k}" must be a string, number or boolean`);
      }
      out[k] = String(v);
    }
  }
  for (const t of params.getAll('tag')) {
    const i = t.indexOf(':');
    if (i <= 0) throw new QueryError('tag', `tag: "${t}" must be key:value`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface TimeRange {
  startUs?: number;
  endUs?: number;
}

/**
 * start/end (µs) and lookback. With a lookback but no start, start = end − lookback (end
 * defaults to now). Without either, the range is open: the embedded store is small and the
 * caller asked for everything.
 */
export function timeRangeParams(params: URLSearchParams, nowUs: number): TimeRange {
  const start = integerParam(params, 'start', 'a time in µs since the epoch');
  let end = integerParam(params, 'end', 'a time in µs since the epoch');
  const lookbackText = params.get('lookback');
  let lookback: number | undefined;
  if (lookbackText !== null && lookbackText !== '' && lookbackText !== 'custom') {
    lookback = durationParam(params, 'lookback');
  }
  let startUs = start;
  if (startUs === undefined && lookback !== undefined) {
    end ??= nowUs;
    startUs = end - lookback;
  }
  if (startUs !== undefined && end !== undefined && startUs > end) {
    throw new QueryError('start', `start (${startUs}) is after end (${end}): the time range is empty`);
  }
  return { startUs, endUs: end };
}

/** A trace id as Jaeger accepts it: 1–32 hex digits, left-padded to 32. */
export function traceIdParam(raw: string, name = 'traceID'): string {
  if (!/^[0-9a-fA-F]{1,32}$/.test(raw)) {
    throw new QueryError(name, `${name}: "${raw.slice(0, 64)}" is not a trace id (1–32 hex digits)`);
  }
  return raw.toLowerCase().padStart(32, '0');
}
