// Reading a header list the way the codecs need it: every value of a name (names compared
// case-insensitively, duplicates kept in order), each trimmed of leading/trailing space and tab
// (RFC 9110 §5.5). Envoy hands names over lower-cased already.
import { HeaderPairs } from '../abi/headers';
import { trimOws } from './chars';

/** How many headers are named `name`. */
export function headerCount(headers: HeaderPairs, name: string): i32 {
  let n = 0;
  for (let i = 0; i < headers.length; i++) if (headers.nameIs(i, name)) n++;
  return n;
}

/**
 * Every value of `name`, trimmed, joined with "," (RFC 9110 list semantics); null when
 * absent. Runs for each format on every request: no allocation unless the header is present.
 */
export function headerJoined(headers: HeaderPairs, name: string): string | null {
  let out: string | null = null;
  for (let i = 0; i < headers.length; i++) {
    if (!headers.nameIs(i, name)) continue;
    const v = trimOws(headers.value(i));
    out = out === null ? v : (out as string) + ',' + v;
  }
  return out;
}
