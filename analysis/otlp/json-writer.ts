// Builds JSON text as UTF-8 bytes in one reusable buffer, so attribute values can be copied from
// the protobuf body without becoming JS strings first. The output is byte for byte what
// JSON.stringify writes (ECMA-262 QuoteJSONString: `"` and `\` escaped, \b \t \n \f \r short,
// other code units below 0x20 as \u00xx; everything else, non-ASCII included, as is).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
const SHORT_ESCAPES: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };
const INITIAL_BYTES = 64 * 1024;
/** 1 for the bytes a JSON string literal holds as they are in printable ASCII (not `"` or `\`). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;

/** Whether bytes [start, end) are well-formed UTF-8 (Unicode 15 §3.9, Table 3-7). */
export function isWellFormedUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if (c === 0xed) {
      need = 2;
      hi = 0x9f;
    } else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (c === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else return false;
    if (i + need >= end) return false; // truncated sequence
    const second = b[i + 1] as number;
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= need; k++) {
      const cc = b[i + k] as number;
      if (cc < 0x80 || cc > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

export class JsonWriter {
  buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  pos = 0;
  /** Whether bytes ≥ 0x80 may have been written since the last take() (else the text is ASCII). */
  private wide = false;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    const buf = this.buf;
    const p = this.pos;
    if (n > 32) {
      buf.set(b, p);
      this.wide = true;
    } else {
      for (let i = 0; i < n; i++) {
        const c = b[i] as number;
        if (c >= 0x80) this.wide = true;
        buf[p + i] = c; // set() costs more than a short loop
      }
    }
    this.pos = p + n;
  }

  /** A string of ASCII characters that need no escaping (punctuation, numbers, literal names). */
  ascii(s: string): void {
    this.reserve(s.length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** JSON text made elsewhere (e.g. by JSON.stringify), written as UTF-8. */
  json(text: string): void {
    this.reserve(text.length * 3);
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.wide = true;
  }

  /** JSON.stringify(s). */
  string(s: string): void {
    this.json(JSON.stringify(s));
  }

  /**
   * src[start, end) as a JSON string literal, when those bytes are well-formed UTF-8 (then the
   * literal equals JSON.stringify of their decoded text). Returns false, having written nothing,
   * when they are not — the caller decodes them (U+FFFD replacements) and writes the string.
   */
  utf8String(src: Uint8Array, start: number, end: number): boolean {
    this.reserve((end - start) * 6 + 2);
    const buf = this.buf;
    const begin = this.pos;
    let p = begin;
    let nonAscii = false;
    buf[p++] = QUOTE;
    for (let i = start; i < end; i++) {
      const c = src[i] as number;
      if (PLAIN[c] === 1 || c >= 0x80) {
        if (c >= 0x80) nonAscii = true;
        buf[p++] = c;
        continue;
      }
      buf[p++] = BACKSLASH;
      const short = c === QUOTE || c === BACKSLASH ? c : SHORT_ESCAPES[c];
      if (short !== undefined) buf[p++] = short;
      else {
        buf[p++] = 0x75; // u00xx
        buf[p++] = 0x30;
        buf[p++] = 0x30;
        buf[p++] = HEX.charCodeAt(c >> 4);
        buf[p++] = HEX.charCodeAt(c & 15);
      }
    }
    buf[p++] = QUOTE;
    if (nonAscii) {
      if (!isWellFormedUtf8(src, start, end)) return false;
      this.wide = true;
    }
    this.pos = p;
    return true;
  }

  /** `,"key":` (comma when `comma`) for a key of printable ASCII without `"` or `\`; false (nothing written) otherwise. */
  asciiKey(src: Uint8Array, start: number, end: number, comma: boolean): boolean {
    this.reserve(end - start + 4);
    const buf = this.buf;
    let p = this.pos;
    if (comma) buf[p++] = 0x2c;
    buf[p++] = QUOTE;
    for (let i = start; i < end; i++) {
      const c = src[i] as number;
      if (PLAIN[c] === 0) return false;
      buf[p++] = c;
    }
    buf[p++] = QUOTE;
    buf[p++] = 0x3a;
    this.pos = p;
    return true;
  }

  /** Drops whatever was written since the last take(). */
  reset(): void {
    this.pos = 0;
    this.wide = false;
  }

  /** The text written since the last take(); the buffer is reused (and shrunk after an outsized span). */
  take(): string {
    // ASCII text needs no UTF-8 decoding: latin1 copies the bytes as they are
    const s = this.buf.toString(this.wide ? 'utf8' : 'latin1', 0, this.pos);
    this.pos = 0;
    this.wide = false;
    if (this.buf.length > 16 * INITIAL_BYTES) this.buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
    return s;
  }
}
