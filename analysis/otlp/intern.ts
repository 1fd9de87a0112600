// Short UTF-8 strings that repeat from span to span (span and event names) are decoded once: a
// direct-mapped cache keyed by an FNV-1a hash of the bytes, each slot holding the bytes, the
// string and its JSON text. Bounded by construction: SLOTS entries of at most MAX_INTERNED_BYTES
// bytes; a collision replaces.

const SLOTS = 4096;
export const MAX_INTERNED_BYTES = 64;

const utf8 = new TextEncoder();

export class Interned {
  private json: Uint8Array | undefined;

  constructor(
    /** A copy (never a view of the request body, which must not be kept alive). */
    readonly bytes: Uint8Array,
    readonly text: string,
  ) {}

  /** JSON.stringify(text) as UTF-8. */
  jsonBytes(): Uint8Array {
    this.json ??= utf8.encode(JSON.stringify(this.text));
    return this.json;
  }
}

const slots: (Interned | undefined)[] = new Array(SLOTS).fill(undefined);

/** The interned string for buf[start, end) (end - start ≤ MAX_INTERNED_BYTES). */
export function intern(buf: Buffer, start: number, end: number): Interned {
  // FNV-1a over the length and at most 8 bytes spread over the string: a slot is only a guess,
  // the full comparison below decides
  const len = end - start;
  let h = Math.imul(0x811c9dc5 ^ len, 0x01000193);
  if (len <= 8) for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  else for (let k = 0; k < 8; k++) h = Math.imul(h ^ (buf[start + ((len * k + len - 1) >> 3)] as number), 0x01000193);
  const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
  const hit = slots[slot];
  if (hit !== undefined && hit.bytes.length === end - start) {
    const b = hit.bytes;
    let i = 0;
    while (i < b.length && b[i] === buf[start + i]) i++;
    if (i === b.length) return hit;
  }
  const fresh = new Interned(Uint8Array.prototype.slice.call(buf, start, end), buf.toString('utf8', start, end));
  slots[slot] = fresh;
  return fresh;
}
