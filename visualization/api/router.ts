// A route table for GET endpoints: the first pattern matching the path wins; a QueryError
// becomes its 4xx JSON, anything else a 500 naming the failure (never an unhandled rejection).
import type { ServerResponse } from 'node:http';
import { QueryError } from '../jaeger/query-params.ts';
import { sendError } from './responses.ts';

export interface Route {
  pattern: RegExp;
  handle(match: RegExpExecArray, query: URLSearchParams, res: ServerResponse): Promise<void>;
}

/** True when a route took the request. */
export async function dispatch(routes: readonly Route[], url: URL, res: ServerResponse): Promise<boolean> {
  for (const r of routes) {
    const m = r.pattern.exec(url.pathname);
    if (!m) continue;
    try {
      await r.handle(m, url.searchParams, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
      } else if (err instanceof QueryError) {
        sendError(res, err.status, { msg: err.message, parameter: err.parameter });
      } else {
        sendError(res, 500, { msg: `${url.pathname}: ${(err as Error).message}` });
      }
    }
    return true;
  }
  return false;
}
