// Structured logs: one JSON object per line on stdout, with trace_id/span_id when the line is
// about a traced request, so logs and spans join on the id.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

export function jsonLogger(min: Level, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return {
    enabled: (level) => ORDER[level] >= ORDER[min],
    log(level, msg, fields) {
      if (ORDER[level] < ORDER[min]) return;
      write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields })}\n`);
    },
  };
}
