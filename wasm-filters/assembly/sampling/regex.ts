// A small regular-expression engine for `rules[].match.path_regex`. The TS core uses ECMAScript
// RegExp; the filter supports this documented subset of it, with the same meaning, and refuses
// anything else at load (so a rule never silently matches differently in the proxy):
//   literals, `.`, escapes \d \D \w \W \s \S and \<punctuation>, classes [abc] [^a-z0-9_] (with
//   those escapes inside), quantifiers * + ? {n} {n,} {n,m} (greedy), anchors ^ (at the start)
//   and $ (at the end). No groups, alternation, lookaround or backreferences.
// Matching is an unanchored search by backtracking over a compiled list of atoms; paths are
// short (≤ a few KB) and patterns bounded, and each atom's repetition is matched greedily then
// backed off, which is linear per atom without nested quantifiers (the subset has none).
import { parseDecimal } from '../trace-context/chars';

const ANY: i32 = 0; // `.`: any char but line terminators
const CLASS: i32 = 1;
const CHAR: i32 = 2;

class Atom {
  kind: i32 = CHAR;
  ch: i32 = 0;
  negate: bool = false;
  /** Class ranges as [lo, hi] pairs (inclusive). */
  ranges: i32[] = [];
  min: i32 = 1;
  max: i32 = 1; // -1 = unbounded

  matches(c: i32): bool {
    if (this.kind == CHAR) return c == this.ch;
    if (this.kind == ANY) return c != 0x0a && c != 0x0d && c != 0x2028 && c != 0x2029;
    let hit = false;
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (c >= this.ranges[i] && c <= this.ranges[i + 1]) {
        hit = true;
        break;
      }
    }
    return hit != this.negate;
  }
}

export class Regex {
  atoms: Atom[] = [];
  anchoredStart: bool = false;
  anchoredEnd: bool = false;

  /** Unanchored search, like RegExp.prototype.test. */
  test(s: string): bool {
    if (this.anchoredStart) return this.matchAt(s, 0, 0);
    for (let i = 0; i <= s.length; i++) if (this.matchAt(s, 0, i)) return true;
    return false;
  }

  private matchAt(s: string, ai: i32, si: i32): bool {
    if (ai == this.atoms.length) return !this.anchoredEnd || si == s.length;
    const a = this.atoms[ai];
    let n = 0;
    const limit = a.max < 0 ? s.length - si : min(a.max, s.length - si);
    while (n < limit && a.matches(s.charCodeAt(si + n))) n++;
    for (; n >= a.min; n--) if (this.matchAt(s, ai + 1, si + n)) return true;
    return false;
  }
}

export class RegexResult {
  regex: Regex | null = null;
  error: string = '';
}

// prettier-ignore
const WHITESPACE: i32[] = [
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
];

function pushAll(to: i32[], from: i32[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
}

function addEscapeClass(ranges: i32[], c: i32): bool {
  if (c == 0x64)
    pushAll(ranges, [0x30, 0x39]); // \d
  else if (c == 0x77)
    pushAll(ranges, [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a, 0x5f, 0x5f]); // \w
  else if (c == 0x73)
    // \s = ECMAScript WhiteSpace + LineTerminator (ECMA-262 §22.2.2.9)
    pushAll(ranges, WHITESPACE);
  else return false;
  return true;
}

function isPunct(c: i32): bool {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

export function compileRegex(p: string): RegexResult {
  const out = new RegexResult();
  const re = new Regex();
  let i = 0;
  if (p.startsWith('^')) {
    re.anchoredStart = true;
    i = 1;
  }
  while (i < p.length) {
    const c = p.charCodeAt(i);
    const atom = new Atom();
    if (c == 0x24 && i == p.length - 1) {
      re.anchoredEnd = true;
      i++;
      break;
    }
    if (c == 0x28 || c == 0x29 || c == 0x7c || c == 0x24 || c == 0x5e) {
      out.error = `unsupported construct "${p.charAt(i)}" at ${i} (the filter supports literals, ., classes, escapes, quantifiers, ^ and $ at the ends)`;
      return out;
    }
    if (c == 0x2a || c == 0x2b || c == 0x3f || c == 0x7b) {
      out.error = `nothing to repeat at ${i}`;
      return out;
    }
    if (c == 0x2e) {
      atom.kind = ANY;
      i++;
    } else if (c == 0x5c) {
      if (i + 1 >= p.length) {
        out.error = `\\ at end of pattern`;
        return out;
      }
      const e = p.charCodeAt(i + 1);
      const lower = e | 0x20;
      if ((lower == 0x64 || lower == 0x77 || lower == 0x73) && (e == lower || e == (lower & ~0x20))) {
        atom.kind = CLASS;
        addEscapeClass(atom.ranges, lower);
        atom.negate = e != lower;
      } else if (isPunct(e)) atom.ch = e;
      else {
        out.error = `unsupported escape "\\${p.charAt(i + 1)}" at ${i}`;
        return out;
      }
      i += 2;
    } else if (c == 0x5b) {
      atom.kind = CLASS;
      i++;
      if (i < p.length && p.charCodeAt(i) == 0x5e) {
        atom.negate = true;
        i++;
      }
      let closed = false;
      while (i < p.length) {
        let lo = p.charCodeAt(i);
        if (lo == 0x5d) {
          closed = true;
          i++;
          break;
        }
        if (lo == 0x5c) {
          if (i + 1 >= p.length) break;
          const e = p.charCodeAt(i + 1);
          i += 2;
          if (addEscapeClass(atom.ranges, e)) continue;
          if (!isPunct(e)) {
            out.error = `unsupported escape "\\${String.fromCharCode(e)}" in a class at ${i - 2}`;
            return out;
          }
          lo = e;
        } else i++;
        let hi = lo;
        if (i + 1 < p.length && p.charCodeAt(i) == 0x2d && p.charCodeAt(i + 1) != 0x5d) {
          hi = p.charCodeAt(i + 1);
          if (hi == 0x5c) {
            out.error = `unsupported escape as a range end at ${i + 1}`;
            return out;
          }
          i += 2;
          if (hi < lo) {
            out.error = `range out of order in character class at ${i - 3}`;
            return out;
          }
        }
        atom.ranges.push(lo);
        atom.ranges.push(hi);
      }
      if (!closed) {
        out.error = 'unterminated character class';
        return out;
      }
    } else {
      atom.ch = c;
      i++;
    }
    // Quantifier
    if (i < p.length) {
      const q = p.charCodeAt(i);
      if (q == 0x2a) {
        atom.min = 0;
        atom.max = -1;
        i++;
      } else if (q == 0x2b) {
        atom.max = -1;
        i++;
      } else if (q == 0x3f) {
        atom.min = 0;
        i++;
      } else if (q == 0x7b) {
        const close = p.indexOf('}', i);
        if (close < 0) {
          out.error = `unterminated {…} at ${i}`;
          return out;
        }
        const body = p.substring(i + 1, close);
        const comma = body.indexOf(',');
        const a = comma < 0 ? body : body.substring(0, comma);
        const b = comma < 0 ? body : body.substring(comma + 1);
        if (!digits(a) || (b.length > 0 && !digits(b))) {
          out.error = `bad repetition {${body}} at ${i}`;
          return out;
        }
        atom.min = <i32>parseDecimal(a);
        atom.max = b.length == 0 ? -1 : <i32>parseDecimal(b);
        if (atom.max >= 0 && atom.max < atom.min) {
          out.error = `numbers out of order in {${body}} at ${i}`;
          return out;
        }
        i = close + 1;
      }
      if (i < p.length) {
        const q2 = p.charCodeAt(i);
        if (q2 == 0x2a || q2 == 0x2b || q2 == 0x3f || q2 == 0x7b) {
          out.error = `unsupported quantifier after a quantifier at ${i} (lazy/nested repetition)`;
          return out;
        }
      }
    }
    re.atoms.push(atom);
  }
  out.regex = re;
  return out;
}

function digits(s: string): bool {
  if (s.length == 0 || s.length > 6) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
