// ASCII-only case mapping for methods, header names and authorities (all ASCII on the wire;
// String#toUpperCase/#toLowerCase would pull AssemblyScript's Unicode case tables into the
// filter, several KB). Non-ASCII characters are left as they are.
export { asciiLower } from '../trace-context/chars';

export function asciiUpper(s: string): string {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) break;
    i++;
  }
  if (i == s.length) return s;
  let out = s.substring(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return out;
}
