// Header maps on the wire (Proxy-Wasm 0.2.1, "map" serialisation):
//
//   u32 count | count × (u32 nameLen, u32 valueLen) | count × (name bytes, 0x00, value bytes, 0x00)
//
// all little-endian. Names and values are bytes; here they are decoded as UTF-8 (header names
// are ASCII; a non-UTF-8 value decodes with U+FFFD and then fails any id grammar, as it should).

/** Ordered header pairs; duplicates are kept as separate entries. */
export class HeaderPairs {
  names: string[] = [];
  values: string[] = [];

  get length(): i32 {
    return this.names.length;
  }

  push(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }
}

export function encodeUtf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

export function decodeHeaderMap(ptr: usize, size: usize): HeaderPairs {
  const out = new HeaderPairs();
  if (size < 4) return out;
  const count = load<u32>(ptr) as usize;
  // A count that cannot fit the buffer means a corrupt map: return what is safe (nothing).
  if ((4 as u64) + (count as u64) * 8 > (size as u64)) return out;
  let data = ptr + 4 + count * 8;
  const end = ptr + size;
  for (let i: usize = 0; i < count; i++) {
    const nameLen = load<u32>(ptr + 4 + i * 8) as usize;
    const valueLen = load<u32>(ptr + 8 + i * 8) as usize;
    if (data + nameLen + valueLen + 2 > end) break;
    const name = String.UTF8.decodeUnsafe(data, nameLen);
    data += nameLen + 1;
    const value = String.UTF8.decodeUnsafe(data, valueLen);
    data += valueLen + 1;
    out.push(name, value);
  }
  return out;
}

/** Serialises pairs in the same layout (for proxy_set_header_map_pairs / local responses). */
export function encodeHeaderMap(pairs: HeaderPairs): ArrayBuffer {
  const n = pairs.length;
  const names = new Array<ArrayBuffer>(n);
  const values = new Array<ArrayBuffer>(n);
  let size = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    names[i] = String.UTF8.encode(pairs.names[i]);
    values[i] = String.UTF8.encode(pairs.values[i]);
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
