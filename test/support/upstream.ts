// A real HTTP upstream on 127.0.0.1 that records what it received, for asserting what a proxy
// forwarded. Behaviour per request can be scripted (status, delay).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Teardown } from './process.ts';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Raw header pairs in arrival order (shows duplicates). */
  rawHeaders: string[];
  body: string;
}

export interface Upstream {
  port: number;
  received: ReceivedRequest[];
  server: Server;
  close(): Promise<void>;
}

export type Responder = (req: ReceivedRequest) => {
  status?: number;
  delayMs?: number;
  body?: string;
  headers?: Record<string, string>;
};

export async function startUpstream(t: Teardown | undefined, respond: Responder = () => ({})): Promise<Upstream> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      const plan = respond(r);
      const send = () => {
        res.writeHead(plan.status ?? 200, { 'content-type': 'text/plain', ...plan.headers });
        res.end(plan.body ?? 'ok');
      };
      if (plan.delayMs) setTimeout(send, plan.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('upstream did not bind');
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t?.teardown(close);
  return { port: addr.port, received, server, close };
}
