// A growable byte buffer with the protobuf wire primitives (protobuf encoding spec: varint,
// fixed64/fixed32 little-endian, length-delimited). Reused across spans: reset() keeps capacity.

export class ByteWriter {
  buf: ArrayBuffer;
  pos: i32 = 0;

  constructor(capacity: i32 = 512) {
    this.buf = new ArrayBuffer(capacity);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: i32): void {
    const need = this.pos + n;
    if (need <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < need) cap *= 2;
    const next = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), this.pos);
    this.buf = next;
  }

  u8(b: u32): void {
    this.ensure(1);
    store<u8>(changetype<usize>(this.buf) + this.pos, <u8>b);
    this.pos++;
  }

  varint(v: u64): void {
    this.ensure(10);
    const base = changetype<usize>(this.buf);
    while (v >= 0x80) {
      store<u8>(base + this.pos++, <u8>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    store<u8>(base + this.pos++, <u8>v);
  }

  tag(field: u32, wireType: u32): void {
    this.varint(((<u64>field) << 3) | wireType);
  }

  fixed64(v: u64): void {
    this.ensure(8);
    store<u64>(changetype<usize>(this.buf) + this.pos, v);
    this.pos += 8;
  }

  fixed32(v: u32): void {
    this.ensure(4);
    store<u32>(changetype<usize>(this.buf) + this.pos, v);
    this.pos += 4;
  }

  raw(ptr: usize, len: i32): void {
    this.ensure(len);
    memory.copy(changetype<usize>(this.buf) + this.pos, ptr, len);
    this.pos += len;
  }

  /** UTF-8 bytes of s, no length prefix; `len` must be String.UTF8.byteLength(s). */
  utf8(s: string, len: i32): void {
    this.ensure(len);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, changetype<usize>(this.buf) + this.pos);
    this.pos += len;
  }

  /** ASCII-only text (JSON punctuation, hex, numbers): one byte per code unit. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const base = changetype<usize>(this.buf) + this.pos;
    const src = changetype<usize>(s);
    for (let i = 0; i < n; i++) store<u8>(base + i, <u8>load<u16>(src + ((<usize>i) << 1)));
    this.pos += n;
  }

  /** A copy of the bytes written so far. */
  take(): ArrayBuffer {
    const out = new ArrayBuffer(this.pos);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf), this.pos);
    return out;
  }
}

export function varintSize(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

function hexVal(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Writes the bytes of an even-length hex string; false (nothing written) when not hex. */
export function writeHexBytes(w: ByteWriter, hex: string): bool {
  const n = hex.length >> 1;
  if ((hex.length & 1) != 0) return false;
  w.ensure(n);
  const base = changetype<usize>(w.buf) + w.pos;
  for (let i = 0; i < n; i++) {
    const hi = hexVal(hex.charCodeAt(2 * i));
    const lo = hexVal(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    store<u8>(base + i, <u8>((hi << 4) | lo));
  }
  w.pos += n;
  return true;
}
