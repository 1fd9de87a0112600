// Reads the JSON access-log lines the generated bootstraps write (mesh-config/envoy/common.ts).
import { existsSync, readFileSync } from 'node:fs';

export interface AccessLine {
  role?: string;
  trace_id?: string | null;
  span_id?: string | null;
  status?: number | string;
  path?: string;
}

export function readAccessLog(file: string): AccessLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as AccessLine;
      } catch {
        return {};
      }
    });
}
