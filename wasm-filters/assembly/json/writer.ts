// Minimal JSON string quoting, for the codec probe's output.

export function quote(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(start, i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += '\\\\';
    else out += '\\u00' + (c < 0x10 ? '0' : '1') + '0123456789abcdef'.charAt(c & 0xf);
    start = i + 1;
  }
  return out + s.substring(start) + '"';
}
