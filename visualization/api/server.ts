// One HTTP server for the Jaeger-compatible API, the meshtrace analysis API and the web UI:
//   /api/...             Jaeger query API (jaeger-routes.ts)
//   /api/meshtrace/...   analyses (meshtrace-routes.ts)
//   /, /ui/app.js, /ui/style.css   the UI (ui/, bundled on first request)
// GET and HEAD only; binds 127.0.0.1 unless told otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TraceReader } from '../../analysis/store/trace-store.ts';
import { buildUi, type UiAssets } from '../ui/bundle.ts';
import { jaegerRoutes } from './jaeger-routes.ts';
import { meshtraceRoutes, type StatusSource } from './meshtrace-routes.ts';
import { sendError } from './responses.ts';
import { dispatch } from './router.ts';

export interface VisualizationServerOptions extends StatusSource {
  reader: TraceReader & { stats?: () => Promise<{ spans: number; traces: number; bytes: number }> };
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Clock for default time ranges (tests pin it to generated data). */
  nowUs?: () => number;
}

export interface VisualizationServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startVisualizationServer(options: VisualizationServerOptions): Promise<VisualizationServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`visualization server: port must be 0-65535, got ${JSON.stringify(options.port)}`);
  }
  const host = options.host ?? '127.0.0.1';
  const routes = [
    ...meshtraceRoutes(options.reader, options, options.nowUs),
    ...jaegerRoutes(options.reader, options.nowUs),
  ];
  let ui: Promise<UiAssets> | null = null;
  const assets = () => {
    ui ??= buildUi().catch((err: unknown) => {
      ui = null; // a fixed source file can be picked up on the next request
      throw err;
    });
    return ui;
  };

  const serveUi = async (path: string, res: ServerResponse): Promise<boolean> => {
    const types: Record<string, [keyof UiAssets, string]> = {
      '/': ['html', 'text/html; charset=utf-8'],
      '/index.html': ['html', 'text/html; charset=utf-8'],
      '/ui/app.js': ['js', 'text/javascript; charset=utf-8'],
      '/ui/style.css': ['css', 'text/css; charset=utf-8'],
    };
    const t = types[path];
    if (!t) return false;
    let a: UiAssets;
    try {
      a = await assets();
    } catch (err) {
      sendError(res, 500, { msg: `UI build failed: ${(err as Error).message}` });
      return true;
    }
    const body = a[t[0]];
    res.writeHead(200, {
      'content-type': t[1],
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
    });
    res.end(body);
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendError(res, 405, { msg: `${req.method} ${url.pathname}: only GET is served` });
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      if (!(await dispatch(routes, url, res))) sendError(res, 404, { msg: `no such endpoint: ${url.pathname}` });
      return;
    }
    if (!(await serveUi(url.pathname, res))) sendError(res, 404, { msg: `not found: ${url.pathname}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, { msg: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
