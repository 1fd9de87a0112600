// An enrichment is a flat set of span attributes (OpenTelemetry semantic-convention names where
// one exists). The same set becomes span attributes (mode "span") or dynamic metadata (mode
// "metadata"), so values stay within what both can carry.
export type AttrValue = string | number | boolean | string[];
export type Attrs = Record<string, AttrValue>;

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncate(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8').subarray(0, maxBytes);
  // Drop a trailing partial sequence: decoding yields U+FFFD for it.
  return buf.toString('utf8').replace(/\uFFFD+$/, '');
}
