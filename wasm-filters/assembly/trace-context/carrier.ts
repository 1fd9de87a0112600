// Reading a header list the way the codecs need it: every value of a name (names compared
// case-insensitively, duplicates kept in order), each trimmed of leading/trailing space and tab
// (RFC 9110 §5.5). Envoy hands names over lower-cased already.
import { HeaderPairs } from '../abi/headers';
import { asciiLower, trimOws } from './chars';

export function headerValues(headers: HeaderPairs, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    if (asciiLower(headers.names[i]) == name) out.push(trimOws(headers.values[i]));
  }
  return out;
}

/** The single value of `name`, or null when absent; several values are joined with ",". */
export function headerJoined(headers: HeaderPairs, name: string): string | null {
  const values = headerValues(headers, name);
  if (values.length == 0) return null;
  return values.join(',');
}
