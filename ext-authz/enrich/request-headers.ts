// Allow-listed request headers → `http.request.header.<name>` (OTel HTTP semconv: a string array
// per header). Credential headers are refused at config time and skipped here again.
import { SECRET_HEADERS } from '../config.ts';
import type { Headers } from '../headers.ts';
import { type Attrs, truncate } from './types.ts';

const MAX_VALUES_PER_HEADER = 8;

export function headerAttributes(headers: Headers, allow: readonly string[], maxValueBytes: number): Attrs {
  const out: Attrs = {};
  for (const name of allow) {
    if (SECRET_HEADERS.has(name)) continue;
    const values = headers.get(name);
    if (!values || values.length === 0) continue;
    out[`http.request.header.${name}`] = values.slice(0, MAX_VALUES_PER_HEADER).map((v) => truncate(v, maxValueBytes));
  }
  return out;
}
