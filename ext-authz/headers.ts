// Adapters between Envoy's header shapes and a lower-cased name → values map. Envoy lower-cases
// header names on the wire to ext_proc (HTTP/2 rules) and keeps pseudo-headers (:path, :method,
// :authority, :status) in the same list.
import type { HeaderMap, HeaderValueOption } from './envoy-types.ts';

export type Headers = Map<string, string[]>;

/** ext_proc HeaderMap → Headers. raw_value wins over value (Envoy ≥1.28 fills only raw_value). */
export function fromHeaderMap(map: HeaderMap | undefined): Headers {
  const out: Headers = new Map();
  for (const h of map?.headers ?? []) {
    if (typeof h.key !== 'string') continue;
    const key = h.key.toLowerCase();
    const value = h.raw_value !== undefined && h.raw_value.length > 0 ? h.raw_value.toString('utf8') : (h.value ?? '');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** ext_authz's map<string,string> (Envoy joins repeated headers with ","). */
export function fromStringMap(map: Record<string, string> | undefined): Headers {
  const out: Headers = new Map();
  for (const [k, v] of Object.entries(map ?? {})) out.set(k.toLowerCase(), [v]);
  return out;
}

export function first(h: Headers, name: string): string | undefined {
  return h.get(name)?.[0];
}

/**
 * Header mutations that replace any existing value. ext_proc takes raw_value bytes; ext_authz's
 * OkHttpResponse reads `value`, so the caller picks.
 */
export function overwrite(pairs: [string, string][], as: 'raw' | 'value'): HeaderValueOption[] {
  return pairs.map(([key, v]) => ({
    header: as === 'raw' ? { key, raw_value: Buffer.from(v, 'utf8') } : { key, value: v },
    append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
  }));
}
