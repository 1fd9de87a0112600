// Protocol Buffers wire format (protobuf.dev "Encoding"), read only as far as canonical encoders
// write it. Anything else — a field running past the end of its message, a varint longer than its
// type, groups, wire types 6/7, field number 0, a known field with the wrong wire type — throws
// NotCanonical, and the caller hands the request to the generated protobufjs decoder instead, so
// odd but legal input and malformed input keep exactly the behaviour (and error text) they had.

export class NotCanonical extends Error {}

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export function notCanonical(why: string): never {
  throw new NotCanonical(why);
}

/** A cursor over one buffer; `pos` is public so decoders can jump over fields they have delimited. */
export class WireReader {
  pos = 0;
  /** Halves of the last varint64 / fixed64 read. */
  lo = 0;
  hi = 0;

  constructor(readonly buf: Buffer) {}

  /** A varint of at most 5 bytes holding a uint32 (tags, lengths). */
  uint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) notCanonical('truncated varint');
    let b = buf[pos++] as number;
    let v = b & 0x7f;
    if (b < 0x80) {
      this.pos = pos;
      return v;
    }
    for (let shift = 7; shift < 35; shift += 7) {
      if (pos >= end) notCanonical('truncated varint');
      b = buf[pos++] as number;
      if (shift === 28) {
        if (b > 0x0f) notCanonical('varint exceeds 32 bits');
        v += b * 0x10000000;
        this.pos = pos;
        return v;
      }
      v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
    }
    return notCanonical('unreachable');
  }

  /** A varint of up to 10 bytes; its halves land in lo/hi. */
  varint64(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (pos >= end) notCanonical('truncated varint');
      b = buf[pos++] as number;
      lo |= (b & 0x7f) << (i * 7);
      if (b < 0x80) break;
    }
    if (i === 4) {
      // 5th byte: bits 28–31 to lo, 32–34 to hi
      if (pos >= end) notCanonical('truncated varint');
      b = buf[pos++] as number;
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >> 4;
      if (b >= 0x80) {
        for (i = 0; i < 5; i++) {
          if (pos >= end) notCanonical('truncated varint');
          b = buf[pos++] as number;
          hi |= (b & 0x7f) << (i * 7 + 3);
          if (b < 0x80) break;
        }
        if (i === 5) notCanonical('varint longer than 10 bytes');
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  fixed64(end: number): void {
    const pos = this.pos;
    if (pos + 8 > end) notCanonical('truncated fixed64');
    this.lo = this.buf.readUInt32LE(pos);
    this.hi = this.buf.readUInt32LE(pos + 4);
    this.pos = pos + 8;
  }

  double(end: number): number {
    const pos = this.pos;
    if (pos + 8 > end) notCanonical('truncated double');
    this.pos = pos + 8;
    return this.buf.readDoubleLE(pos);
  }

  /** Reads a length prefix; returns the end of the delimited bytes (pos is at their start). */
  delimited(end: number): number {
    const len = this.uint32(end);
    const stop = this.pos + len;
    if (stop > end) notCanonical('length-delimited field runs past the end of its message');
    return stop;
  }

  /** A field tag; field number 0 is never written by a canonical encoder. */
  tag(end: number): number {
    const tag = this.uint32(end);
    if (tag < 8) notCanonical('field number 0');
    return tag;
  }

  /** Skips one field of a wire type canonical proto3 encoders use. */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case VARINT:
        this.varint64(end);
        return;
      case I64:
        if (this.pos + 8 > end) notCanonical('truncated fixed64');
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.delimited(end);
        return;
      case I32:
        if (this.pos + 4 > end) notCanonical('truncated fixed32');
        this.pos += 4;
        return;
      default:
        notCanonical(`wire type ${wireType}`);
    }
  }
}

/**
 * A message's layout for checking parts the decoder does not use (scope, dropped counts …):
 * field number → wire type, or → the nested message's layout (a LEN field).
 */
export interface Layout {
  [field: number]: number | Layout;
}

/** Walks a message's bytes, checking every known field's wire type and every nested message. */
export function checkMessage(r: WireReader, end: number, layout: Layout): void {
  while (r.pos < end) {
    const tag = r.tag(end);
    const wt = tag & 7;
    const known = layout[tag >>> 3];
    if (known === undefined) r.skip(wt, end);
    else if (typeof known === 'number') {
      if (wt !== known) notCanonical(`field ${tag >>> 3} has wire type ${wt}`);
      r.skip(wt, end);
    } else {
      if (wt !== LEN) notCanonical(`field ${tag >>> 3} has wire type ${wt}`);
      const stop = r.delimited(end);
      checkMessage(r, stop, known);
      r.pos = stop;
    }
  }
}
