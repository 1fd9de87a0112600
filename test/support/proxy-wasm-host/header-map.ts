// An HTTP header map with the semantics Envoy gives the Proxy-Wasm header calls
// (source/extensions/common/wasm/context.cc), plus the pairs wire format of the ABI.

export type HeaderPair = [name: string, value: string];
/** Headers as tests write them: an object (one value per name) or ordered pairs (duplicates allowed). */
export type HeadersInput = Record<string, string> | ReadonlyArray<readonly [string, string]>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function toPairs(input: HeadersInput): HeaderPair[] {
  return Array.isArray(input)
    ? input.map(([k, v]) => [k, v] as HeaderPair)
    : Object.entries(input as Record<string, string>).map(([k, v]) => [k, v] as HeaderPair);
}

export class HeaderMap {
  private entries: HeaderPair[] = [];

  constructor(input: HeadersInput = []) {
    for (const [k, v] of toPairs(input)) this.add(k, v);
  }

  // Envoy quirk: every key passes through Http::LowerCaseString, so `X-B3-TraceId` and
  // `x-b3-traceid` are the same header and pairs always come back lower-cased.
  private static key(name: string): string {
    return name.toLowerCase();
  }

  /**
   * First value of `name`, or undefined when absent. Envoy quirk: with duplicated headers the
   * ABI returns only entry[0] (a TODO in Envoy's getHeaderMapValue), never a joined list.
   */
  get(name: string): string | undefined {
    const k = HeaderMap.key(name);
    return this.entries.find(([n]) => n === k)?.[1];
  }

  getAll(name: string): string[] {
    const k = HeaderMap.key(name);
    return this.entries.filter(([n]) => n === k).map(([, v]) => v);
  }

  /**
   * addCopy: appends another entry, keeping existing ones. Envoy quirk: pseudo-headers
   * (:authority, :path, :method, :scheme, :status) always sit before regular headers — Envoy's
   * HeaderMapImpl inserts them at the end of the pseudo-header block, never after a regular one.
   */
  add(name: string, value: string): void {
    const k = HeaderMap.key(name);
    if (!k.startsWith(':')) {
      this.entries.push([k, value]);
      return;
    }
    const firstRegular = this.entries.findIndex(([n]) => !n.startsWith(':'));
    if (firstRegular < 0) this.entries.push([k, value]);
    else this.entries.splice(firstRegular, 0, [k, value]);
  }

  /**
   * setCopy: Envoy removes every entry of the name and appends one (the behaviour of the
   * `http_set_copy_replace_all_headers` change, now the only one), so duplicates collapse and a
   * replaced custom header moves to the end.
   */
  replace(name: string, value: string): void {
    this.remove(name);
    this.add(name, value);
  }

  /** Removing an absent header is still Ok in Envoy. */
  remove(name: string): void {
    const k = HeaderMap.key(name);
    this.entries = this.entries.filter(([n]) => n !== k);
  }

  setPairs(pairs: HeaderPair[]): void {
    this.entries = [];
    for (const [k, v] of pairs) this.add(k, v);
  }

  pairs(): HeaderPair[] {
    return this.entries.map(([k, v]) => [k, v]);
  }

  /** Number of entries (what Envoy passes as num_headers to proxy_on_*_headers). */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Envoy quirk: proxy_get_header_map_size reports HeaderMap::byteSize() — the sum of key and
   * value lengths in bytes — not the number of entries.
   */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += encoder.encode(k).length + encoder.encode(v).length;
    return n;
  }
}

/**
 * ABI pairs format: u32 count, then (u32 key_len, u32 value_len) per pair, then each key and value
 * as bytes followed by a NUL. All integers little-endian.
 */
export function encodePairs(pairs: HeaderPair[]): Uint8Array {
  const encoded = pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const);
  let size = 4 + encoded.length * 8;
  for (const [k, v] of encoded) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let p = 4;
  for (const [k, v] of encoded) {
    view.setUint32(p, k.length, true);
    view.setUint32(p + 4, v.length, true);
    p += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, p);
    p += k.length + 1;
    out.set(v, p);
    p += v.length + 1;
  }
  return out;
}

/**
 * Decodes the pairs format. Like Envoy's toPairs, a buffer too short for its declared lengths
 * yields no pairs rather than an error.
 */
export function decodePairs(bytes: Uint8Array): HeaderPair[] {
  if (bytes.length < 4) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (4 + count * 8 > bytes.length) return [];
  const lengths: [number, number][] = [];
  for (let i = 0; i < count; i++) lengths.push([view.getUint32(4 + i * 8, true), view.getUint32(8 + i * 8, true)]);
  let p = 4 + count * 8;
  const out: HeaderPair[] = [];
  for (const [kl, vl] of lengths) {
    if (p + kl + vl + 2 > bytes.length) return [];
    const k = decoder.decode(bytes.subarray(p, p + kl));
    p += kl + 1;
    const v = decoder.decode(bytes.subarray(p, p + vl));
    p += vl + 1;
    out.push([k, v]);
  }
  return out;
}
