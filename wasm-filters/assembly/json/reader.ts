// A small strict JSON reader (RFC 8259) for plugin configuration and the codec probe. Errors
// name the byte offset; nesting is bounded so hostile input cannot exhaust the stack.
import { JsonKind, JsonValue } from './value';

const MAX_DEPTH = 32;

export class JsonReader {
  private pos: i32 = 0;
  /** Set when parse() returns null: what is wrong and where. */
  error: string = '';

  constructor(private text: string) {}

  parse(): JsonValue | null {
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.pos < this.text.length) return this.fail('unexpected text after the value');
    return v;
  }

  private fail(what: string): JsonValue | null {
    if (this.error.length == 0) this.error = `${what} at offset ${this.pos}`;
    return null;
  }

  private ws(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  private peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  private literal(word: string): bool {
    if (this.text.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  private value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail('nesting deeper than 32');
    this.ws();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      const v = new JsonValue(JsonKind.String);
      v.str = s as string;
      return v;
    }
    const isTrue = this.literal('true');
    if (isTrue || this.literal('false')) {
      const v = new JsonValue(JsonKind.Bool);
      v.bool = isTrue;
      return v;
    }
    if (this.literal('null')) return new JsonValue(JsonKind.Null);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail(c < 0 ? 'unexpected end of input' : 'unexpected character');
  }

  private object(depth: i32): JsonValue | null {
    const v = new JsonValue(JsonKind.Object);
    this.pos++;
    this.ws();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (this.pos < this.text.length) {
      this.ws();
      if (this.peek() != 0x22) return this.fail('expected a string key');
      const key = this.string();
      if (key === null) return null;
      this.ws();
      if (this.peek() != 0x3a) return this.fail('expected ":"');
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key as string);
      v.items.push(item);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.fail('expected "," or "}"');
      }
    }
    return this.fail('unexpected end of input');
  }

  private array(depth: i32): JsonValue | null {
    const v = new JsonValue(JsonKind.Array);
    this.pos++;
    this.ws();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (this.pos < this.text.length) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.fail('expected "," or "]"');
      }
    }
    return this.fail('unexpected end of input');
  }

  private string(): string | null {
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x22) {
        out += this.text.substring(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail('control character in string');
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += this.text.substring(start, this.pos);
      const e = this.pos + 1 < this.text.length ? this.text.charCodeAt(this.pos + 1) : -1;
      this.pos += 2;
      if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else if (e == 0x62) out += '\b';
      else if (e == 0x66) out += '\f';
      else if (e == 0x6e) out += '\n';
      else if (e == 0x72) out += '\r';
      else if (e == 0x74) out += '\t';
      else if (e == 0x75) {
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const h = this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
          let d = -1;
          if (h >= 0x30 && h <= 0x39) d = h - 0x30;
          else if ((h | 0x20) >= 0x61 && (h | 0x20) <= 0x66) d = (h | 0x20) - 0x57;
          if (d < 0) {
            this.fail('bad \\u escape');
            return null;
          }
          code = (code << 4) | d;
          this.pos++;
        }
        out += String.fromCharCode(code);
      } else {
        this.pos -= 2;
        this.fail('bad escape');
        return null;
      }
      start = this.pos;
    }
    this.fail('unterminated string');
    return null;
  }

  private number(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (!this.digits()) return this.fail('bad number');
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!this.digits()) return this.fail('bad number');
    }
    if ((this.peek() | 0x20) == 0x65) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (!this.digits()) return this.fail('bad number');
    }
    const v = new JsonValue(JsonKind.Number);
    v.num = decimalValue(this.text, start, this.pos);
    // The number as written, for error messages: formatting the f64 back would link the
    // standard library's dtoa (~2.8 KB of filter).
    v.str = this.text.substring(start, this.pos);
    return v;
  }

  private digits(): bool {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos > start;
  }
}

/**
 * The value of a JSON number already checked against the grammar. Plain decimal arithmetic
 * (AssemblyScript's parseFloat would add ~4 KB); exact for integers up to 2^53 and for the
 * few-digit fractions configuration uses (ratios, durations).
 */
function decimalValue(text: string, start: i32, end: i32): f64 {
  let i = start;
  const negative = text.charCodeAt(i) == 0x2d;
  if (negative) i++;
  let mantissa: f64 = 0;
  let scale: i32 = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) {
      seenDot = true;
      continue;
    }
    if ((c | 0x20) == 0x65) break;
    mantissa = mantissa * 10 + <f64>(c - 0x30);
    if (seenDot) scale--;
  }
  if (i < end) {
    i++;
    let expNegative = false;
    const sign = text.charCodeAt(i);
    if (sign == 0x2b || sign == 0x2d) {
      expNegative = sign == 0x2d;
      i++;
    }
    let exp: i32 = 0;
    for (; i < end && exp < 10000; i++) exp = exp * 10 + (text.charCodeAt(i) - 0x30);
    scale += expNegative ? -exp : exp;
  }
  // Divide by an exact power of ten rather than multiply by an inexact reciprocal (and avoid
  // Math.pow's size); beyond ±400 the value is 0 or Infinity anyway.
  let power: f64 = 1;
  const steps = scale < 0 ? -scale : scale;
  for (let k = 0; k < steps && k < 400; k++) power *= 10;
  const value = scale < 0 ? mantissa / power : mantissa * power;
  return negative ? -value : value;
}

/** Parses `text`; on failure returns null and writes the reason into `error[0]`. */
export function parseJson(text: string, error: string[]): JsonValue | null {
  const r = new JsonReader(text);
  const v = r.parse();
  if (v === null) error.push(r.error);
  return v;
}
