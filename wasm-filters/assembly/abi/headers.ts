// Header maps on the wire (Proxy-Wasm 0.2.1, "map" serialisation):
//
//   u32 count | count × (u32 nameLen, u32 valueLen) | count × (name bytes, 0x00, value bytes, 0x00)
//
// all little-endian. Names and values are bytes; values are decoded as UTF-8 (a non-UTF-8
// value decodes with U+FFFD and then fails any id grammar, as it should).

/**
 * Ordered header pairs; duplicates are kept as separate entries. Two shapes behind one API:
 * built from strings (push), or backed by a host header map, where names are compared as
 * bytes and a value is decoded only when asked for — a request carries many headers and the
 * codecs look at a handful.
 */
// Shared by every HeaderPairs until its first push (a host-backed map never pushes), so
// wrapping a host map allocates no arrays. Never mutated: push replaces it first.
const UNUSED: string[] = [];

export class HeaderPairs {
  names: string[] = UNUSED;
  values: string[] = UNUSED;
  /** Host map bytes (copied) and per pair (nameOff, nameLen, valueOff, valueLen); null when built. */
  private raw: ArrayBuffer | null = null;
  private spans: StaticArray<u32> | null = null;
  private rawCount: i32 = 0;

  get length(): i32 {
    return this.raw === null ? this.names.length : this.rawCount;
  }

  push(name: string, value: string): void {
    if (this.names === UNUSED) {
      this.names = [];
      this.values = [];
    }
    this.names.push(name);
    this.values.push(value);
  }

  /** Empties a built list, keeping its arrays for the next pushes (a host-backed map is left alone). */
  clear(): void {
    if (this.names === UNUSED) return;
    this.names.length = 0;
    this.values.length = 0;
  }

  name(i: i32): string {
    const spans = this.spans;
    if (spans === null) return this.names[i];
    return String.UTF8.decodeUnsafe(changetype<usize>(this.raw) + spans[i * 4], spans[i * 4 + 1]);
  }

  value(i: i32): string {
    const spans = this.spans;
    if (spans === null) return this.values[i];
    return String.UTF8.decodeUnsafe(changetype<usize>(this.raw) + spans[i * 4 + 2], spans[i * 4 + 3]);
  }

  /**
   * Name i equals the lower-case ASCII `lower`, ignoring ASCII case (`whole`), or starts
   * with it (`!whole`). No allocation; the length test rejects most names at once.
   */
  nameIs(i: i32, lower: string, whole: bool = true): bool {
    // Hot: runs for every header × every name looked for. Raw loads (no bounds checks or
    // calls; `i` < length and k < n are guaranteed by the loops that get here).
    const n = lower.length;
    const want = changetype<usize>(lower);
    const spans = this.spans;
    if (spans === null) {
      const s = unchecked(this.names[i]);
      if (whole ? s.length != n : s.length < n) return false;
      const have = changetype<usize>(s);
      for (let k = 0; k < n; k++) {
        if (foldAscii(load<u16>(have + ((<usize>k) << 1))) != load<u16>(want + ((<usize>k) << 1))) return false;
      }
      return true;
    }
    const len = <i32>unchecked(spans[i * 4 + 1]);
    if (whole ? len != n : len < n) return false;
    const p = changetype<usize>(this.raw) + unchecked(spans[i * 4]);
    for (let k = 0; k < n; k++) {
      if (foldAscii(load<u8>(p + k)) != load<u16>(want + ((<usize>k) << 1))) return false;
    }
    return true;
  }

  /** Wraps a host header map (copied; the caller frees `ptr`). A corrupt map yields no pairs. */
  static fromHost(ptr: usize, size: usize): HeaderPairs {
    const out = new HeaderPairs();
    if (size < 4) return out;
    const count = load<u32>(ptr) as u64;
    if (4 + count * 8 > (size as u64)) return out;
    const n = <i32>count;
    const spans = new StaticArray<u32>(n * 4);
    let data = 4 + n * 8;
    let valid = 0;
    for (let i = 0; i < n; i++) {
      const nameLen = load<u32>(ptr + 4 + i * 8);
      const valueLen = load<u32>(ptr + 8 + i * 8);
      if ((data as u64) + (nameLen as u64) + (valueLen as u64) + 2 > (size as u64)) break;
      spans[i * 4] = data;
      spans[i * 4 + 1] = nameLen;
      spans[i * 4 + 2] = data + nameLen + 1;
      spans[i * 4 + 3] = valueLen;
      data += nameLen + valueLen + 2;
      valid++;
    }
    const raw = new ArrayBuffer(<i32>size);
    memory.copy(changetype<usize>(raw), ptr, size);
    out.raw = raw;
    out.spans = spans;
    out.rawCount = valid;
    return out;
  }
}

function foldAscii(c: u32): u32 {
  return c - 0x41 < 26 ? c + 0x20 : c;
}

export function encodeUtf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** Serialises pairs in the same layout (for proxy_set_header_map_pairs / local responses). */
export function encodeHeaderMap(pairs: HeaderPairs): ArrayBuffer {
  const n = pairs.length;
  const names = new Array<ArrayBuffer>(n);
  const values = new Array<ArrayBuffer>(n);
  let size = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    names[i] = String.UTF8.encode(pairs.name(i));
    values[i] = String.UTF8.encode(pairs.value(i));
    size += names[i].byteLength + values[i].byteLength + 2;
  }
  const buf = new ArrayBuffer(size);
  const base = changetype<usize>(buf);
  store<u32>(base, n);
  let data = base + 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const nl = names[i].byteLength;
    const vl = values[i].byteLength;
    store<u32>(base + 4 + i * 8, nl);
    store<u32>(base + 8 + i * 8, vl);
    memory.copy(data, changetype<usize>(names[i]), nl);
    store<u8>(data + nl, 0);
    data += nl + 1;
    memory.copy(data, changetype<usize>(values[i]), vl);
    store<u8>(data + vl, 0);
    data += vl + 1;
  }
  return buf;
}
