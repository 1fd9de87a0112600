// Carrier adapters. Every codec function reads headers through a HeaderGetter and writes through
// a HeaderSetter, so one codec serves Node's IncomingHttpHeaders, Envoy ext_proc HeaderMaps
// (lists of pairs), express requests and OpenTelemetry carriers alike.
import type { IncomingHttpHeaders } from 'node:http';

export interface HeaderGetter {
  /** Every value of the header, matched case-insensitively, in arrival order; [] when absent. */
  get(name: string): string[];
  /** Header names present (any case, possibly repeated). */
  keys(): string[];
}

export type HeaderSetter = (name: string, value: string) => void;

/** Returned for every absent header: the codec only reads what a getter returns. */
const NONE: string[] = Object.freeze([]) as unknown as string[];

// A class rather than an object of closures: a getter is made per request on the gateway path,
// and under tsx (keepNames) every named closure costs an Object.defineProperty.
class NodeHeaderGetter implements HeaderGetter {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string[] {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return NONE;
    return Array.isArray(value) ? value : [value];
  }

  keys(): string[] {
    return Object.keys(this.headers);
  }
}

/** Node's parsed headers: names are already lower-case; duplicates arrive joined or as arrays. */
export function headersFromNode(headers: IncomingHttpHeaders): HeaderGetter {
  return new NodeHeaderGetter(headers);
}

/** Pairs in order, duplicates kept, names in any case: Envoy ext_proc HeaderMap, rawHeaders, tests. */
export function headersFromPairs(pairs: Iterable<readonly [string, string]>): HeaderGetter {
  const list = [...pairs];
  return {
    get(name) {
      const wanted = name.toLowerCase();
      const out: string[] = [];
      for (const [k, v] of list) if (k.toLowerCase() === wanted) out.push(v);
      return out;
    },
    keys: () => list.map(([k]) => k),
  };
}

/** Node's `req.rawHeaders` ([name, value, name, value, …]): keeps duplicates Node would join. */
export function headersFromRawList(raw: readonly string[]): HeaderGetter {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return headersFromPairs(pairs);
}

/** A setter appending lower-case pairs to `out`. */
export function pairSetter(out: [string, string][]): HeaderSetter {
  return (name, value) => {
    out.push([name.toLowerCase(), value]);
  };
}

/** A setter for a plain header record (e.g. OutgoingHttpHeaders); a repeated name overwrites. */
export function recordSetter(out: Record<string, string | string[] | number | undefined>): HeaderSetter {
  return (name, value) => {
    out[name.toLowerCase()] = value;
  };
}

const OWS = /^[ \t]+|[ \t]+$/g;

/** RFC 9110 §5.5: a field value excludes leading and trailing whitespace. */
export function trimOws(value: string): string {
  // Most values have nothing to trim: answer without running the regex.
  const n = value.length;
  if (n === 0) return value;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09) return value;
  return value.replace(OWS, '');
}

/**
 * The header's values, trimmed and joined with "," as Envoy joins repeated headers;
 * null when the header is absent.
 */
export function joinedValue(getter: HeaderGetter, name: string): string | null {
  const values = getter.get(name);
  if (values.length === 0) return null;
  if (values.length === 1) return trimOws(values[0]!);
  return values.map(trimOws).join(',');
}
