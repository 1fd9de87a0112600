// A real OTLP/HTTP traces receiver for tests: decodes ExportTraceServiceRequest protobuf with
// analysis/otlp (the published generated OTLP root over protobufjs) and keeps the spans.
import { createServer } from 'node:http';
import type { Span } from '../../analysis/model.ts';
import { decodeProtobufRequest } from '../../analysis/otlp/codec.ts';
import { toSpans } from '../../analysis/otlp/to-spans.ts';
import type { Teardown } from '../support/process.ts';
import { waitFor } from '../support/process.ts';

export interface OtlpReceiver {
  url: string;
  spans: Span[];
  /** Waits until `predicate` holds over the spans received so far. */
  waitForSpans(what: string, predicate: (spans: Span[]) => boolean, timeoutMs?: number): Promise<Span[]>;
}

export async function startOtlpReceiver(t: Teardown): Promise<OtlpReceiver> {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeProtobufRequest(new Uint8Array(Buffer.concat(chunks)));
      if (!decoded.ok || req.url !== '/v1/traces') {
        res.writeHead(400).end(decoded.ok ? 'wrong path' : decoded.error);
        return;
      }
      spans.push(...toSpans(decoded.request).spans);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('OTLP receiver did not bind');
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    url: `http://127.0.0.1:${addr.port}/v1/traces`,
    spans,
    waitForSpans: (what, predicate, timeoutMs = 10000) =>
      waitFor(what, () => (predicate(spans) ? spans : null), timeoutMs),
  };
}
