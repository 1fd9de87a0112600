// Replaces AssemblyScript's default `env.abort` import (which Envoy does not provide): log the
// failure through proxy_log at critical level, then trap so the host sees a failed call.
import { proxy_log } from './imports';

export function abortHandler(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  let text = message === null ? 'abort' : message;
  if (fileName !== null) text += ` (${fileName}:${line}:${column})`;
  const buf = String.UTF8.encode(text);
  proxy_log(5, changetype<usize>(buf), buf.byteLength);
  unreachable();
}
