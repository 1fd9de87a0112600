// Protocol Buffers wire format (protobuf.dev "Encoding"), written straight into one growable
// Buffer: what the OTLP span encoder needs and nothing more. Fields are written in the order
// the caller calls; a length-delimited field is opened with begin() and closed with end(),
// which fills in its length afterwards (one byte reserved; a body of 128 bytes or more is moved
// up by the extra length bytes — one copyWithin per span, its attributes stay under 128).
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

const TWO_32 = 0x1_0000_0000;
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
// Little-endian hosts only (x86, arm64 as Node runs them): doubles are copied byte for byte.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Hex digit value of a char code (lowercase or uppercase), -1 otherwise. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A non-negative integer below 2^53. */
  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** int64 of a safe integer: negative values take ten bytes (two's complement), as the spec says. */
  int64(field: number, v: number): void {
    this.tag(field, VARINT);
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let u = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  bool(field: number, v: boolean): void {
    this.tag(field, VARINT);
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  double(field: number, v: number): void {
    this.tag(field, I64);
    this.ensure(8);
    F64[0] = v;
    for (let i = 0; i < 8; i++) this.buf[this.pos + i] = F64_BYTES[LITTLE_ENDIAN ? i : 7 - i]!;
    this.pos += 8;
  }

  private u32(v: number): void {
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = v & 0xff;
    buf[pos + 1] = (v >>> 8) & 0xff;
    buf[pos + 2] = (v >>> 16) & 0xff;
    buf[pos + 3] = v >>> 24;
    this.pos = pos + 4;
  }

  fixed32(field: number, v: number): void {
    this.tag(field, I32);
    this.ensure(4);
    this.u32(v >>> 0);
  }

  /**
   * fixed64 nanoseconds of a time in epoch milliseconds, kept to the microsecond. Exact without
   * BigInt: microseconds stay below 2^53, and each 32-bit half times 1000 does too.
   */
  nanosFromMs(field: number, ms: number): void {
    this.tag(field, I64);
    this.ensure(8);
    const us = Math.max(0, Math.round(ms * 1000));
    const hiUs = Math.floor(us / TWO_32);
    const loNs = (us - hiUs * TWO_32) * 1000;
    const carry = Math.floor(loNs / TWO_32);
    this.u32(loNs - carry * TWO_32);
    this.u32(hiUs * 1000 + carry);
  }

  /**
   * UTF-8 in one pass, length filled in after (end()). Lone surrogates become U+FFFD, as
   * Buffer#write makes them.
   */
  string(field: number, s: string): void {
    const mark = this.begin(field);
    const n = s.length;
    this.ensure(n * 3);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[pos++] = c;
      } else if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            buf[pos++] = 0xf0 | (c >> 18);
            buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
            buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
            buf[pos++] = 0x80 | (c & 0x3f);
            continue;
          }
          c = 0xfffd;
        }
        buf[pos++] = 0xe0 | (c >> 12);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      }
    }
    this.pos = pos;
    this.end(mark);
  }

  /** A bytes field from hex (trace and span ids). */
  hex(field: number, hex: string): void {
    this.tag(field, LEN);
    const n = hex.length >> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const hi = hexValue(hex.charCodeAt(2 * i));
      const lo = hexValue(hex.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) throw new Error(`not a hex id: '${hex}'`);
      buf[pos++] = (hi << 4) | lo;
    }
    this.pos = pos;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Opens a length-delimited field; returns the mark end() takes. */
  begin(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    this.pos += 1;
    return this.pos;
  }

  end(mark: number): void {
    const len = this.pos - mark;
    if (len < 0x80) {
      this.buf[mark - 1] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(mark + extra, mark, this.pos);
    let pos = mark - 1;
    let v = len;
    while (v >= 0x80) {
      this.buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[pos] = v;
    this.pos += extra;
  }
}
