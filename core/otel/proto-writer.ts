// Protocol Buffers wire format (protobuf.dev, "Encoding") written straight into one Buffer:
// what the OTLP span encoder needs and nothing more. Fields go out in the order they are
// written; a length-delimited field is opened with begin() and closed with end(), which fills
// in its length afterwards — one byte is reserved, and a body of 128 bytes or more is moved up
// by the extra length bytes (one copyWithin per span: a span is a few hundred bytes, its
// attributes stay under 128).
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

const TWO_32 = 0x1_0000_0000;

/** Hex digit value of a char code (either case), -1 otherwise. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ProtoWriter {
  buf: Buffer;
  pos: number;

  /** Writes from `start` on: the bytes before it are left for a frame written last (see raw()). */
  constructor(initialBytes: number, start = 0) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, start + 64));
    this.pos = start;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned 32-bit integer. */
  varint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    let u = v >>> 0;
    while (u > 0x7f) {
      buf[pos++] = (u & 0x7f) | 0x80;
      u >>>= 7;
    }
    buf[pos++] = u;
    this.pos = pos;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /**
   * An int64 varint of an integral number within ±2^63: negative values as ten bytes of two's
   * complement (as the spec says for int64), magnitudes past 2^53 from their exact double.
   */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) {
      this.varint(v);
      return;
    }
    const abs = Math.abs(v);
    let lo = abs >>> 0;
    let hi = (abs / TWO_32) >>> 0;
    if (v < 0) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /**
   * fixed64 nanoseconds of an OpenTelemetry HrTime [seconds, nanoseconds], exactly: seconds
   * times 1e9 is split at 16 bits so each product stays below 2^53.
   */
  hrTimeNanos(seconds: number, nanos: number): void {
    const lowSecondsNs = (seconds & 0xffff) * 1e9;
    const highSecondsNs = Math.floor(seconds / 0x10000) * 1e9; // times 2^16
    const low = (lowSecondsNs % TWO_32) + (highSecondsNs % 0x10000) * 0x10000 + nanos;
    const high = Math.floor(lowSecondsNs / TWO_32) + Math.floor(highSecondsNs / 0x10000) + Math.floor(low / TWO_32);
    this.ensure(8);
    this.buf.writeUInt32LE((low % TWO_32) >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** A string's UTF-8 bytes, length first. Lone surrogates become U+FFFD, as TextEncoder makes them. */
  string(s: string): void {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(n);
      this.ensure(n);
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A bytes field's body from lowercase or uppercase hex (trace and span ids). */
  hexBytes(hex: string): void {
    const n = hex.length >> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const hi = hexValue(hex.charCodeAt(2 * i));
      const lo = hexValue(hex.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) throw new Error(`proto-writer: not a hex id: '${hex}'`);
      buf[pos++] = (hi << 4) | lo;
    }
    this.pos = pos;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Opens length-delimited field `field`; returns the mark end() takes. */
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
    while (v > 0x7f) {
      this.buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[pos] = v;
    this.pos += extra;
  }
}

/** Bytes of varint `v` (unsigned 32-bit). */
export function varintSize(v: number): number {
  let size = 1;
  for (let u = v >>> 0; u > 0x7f; u >>>= 7) size++;
  return size;
}
