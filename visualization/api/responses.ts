// Jaeger's HTTP API envelope: every answer is { data, total, limit, offset, errors }, errors
// being [{ code, msg }] or null. We add `parameter` to an error entry when a query parameter
// is at fault, so a client can point at it (Jaeger's clients ignore unknown fields).
import type { ServerResponse } from 'node:http';

export interface ApiError {
  code: number;
  msg: string;
  parameter?: string;
  traceID?: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendData(res: ServerResponse, data: unknown, total?: number): void {
  const n = total ?? (Array.isArray(data) ? data.length : 0);
  sendJson(res, 200, { data, total: n, limit: 0, offset: 0, errors: null });
}

export function sendError(res: ServerResponse, status: number, error: Omit<ApiError, 'code'>): void {
  sendJson(res, status, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, ...error }] });
}
