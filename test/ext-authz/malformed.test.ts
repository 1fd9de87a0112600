// Protocol errors against the real gRPC server (in-process): a ProcessingRequest with no arm,
// one out of order, and bytes that are not a ProcessingRequest each fail only their own stream
// with a gRPC error; the server stays healthy and keeps serving.
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { normaliseConfig } from '../../ext-authz/config.ts';
import { jsonLogger } from '../../ext-authz/log.ts';
import { clientFor } from '../../ext-authz/protos.ts';
import { startService } from '../../ext-authz/server.ts';

const PROCESS = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

async function service(t: import('ava').ExecutionContext) {
  const lines: string[] = [];
  const svc = await startService(normaliseConfig({ listen: { port: 0 } }), {
    logger: jsonLogger('debug', (l) => lines.push(l)),
  });
  t.teardown(() => svc.stop());
  const raw = new grpc.Client(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  return { svc, raw, lines };
}

/** Sends raw protobuf bytes on a Process stream; resolves with the status it ends with. */
function sendRaw(client: grpc.Client, frames: Buffer[]): Promise<{ status: grpc.StatusObject; replies: number }> {
  return new Promise((resolve) => {
    let replies = 0;
    const call = client.makeBidiStreamRequest(
      PROCESS,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    call.on('data', () => replies++);
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => resolve({ status, replies }));
    for (const f of frames) call.write(f);
    call.end();
  });
}

// request_headers (field 2) holding HttpHeaders{headers: HeaderMap{headers: [{key ":path", raw_value "/"}]}}.
const headerValue = Buffer.concat([
  Buffer.from([0x0a, 5]),
  Buffer.from(':path'),
  Buffer.from([0x1a, 1]),
  Buffer.from('/'),
]);
const headerMap = Buffer.concat([Buffer.from([0x0a, headerValue.length]), headerValue]);
const httpHeaders = Buffer.concat([Buffer.from([0x0a, headerMap.length]), headerMap]);
const requestHeaders = Buffer.concat([Buffer.from([0x12, httpHeaders.length]), httpHeaders]);
// request_body (field 4): HttpBody{body "x", end_of_stream true}.
const requestBody = Buffer.from([0x22, 5, 0x0a, 1, 0x78, 0x10, 1]);

const cases: { name: string; frames: Buffer[]; code: grpc.status }[] = [
  { name: 'no request arm set (empty message)', frames: [Buffer.alloc(0)], code: grpc.status.INVALID_ARGUMENT },
  { name: 'request_body before request_headers', frames: [requestBody], code: grpc.status.INVALID_ARGUMENT },
  { name: 'request_headers twice', frames: [requestHeaders, requestHeaders], code: grpc.status.INVALID_ARGUMENT },
  {
    name: 'bytes that are not protobuf (truncated field)',
    frames: [Buffer.from([0x12, 0x7f, 0x01])],
    code: grpc.status.INTERNAL,
  },
];

for (const c of cases) {
  test(`malformed ProcessingRequest → gRPC error, server survives: ${c.name}`, async (t) => {
    const { svc, raw } = await service(t);
    const { status } = await sendRaw(raw, c.frames);
    t.is(status.code, c.code, `${c.name}: ${status.details}`);
    // Still healthy and still serving a well-formed exchange.
    const Health = clientFor('health');
    const health = new Health(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Check(req: object, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    };
    t.teardown(() => health.close());
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: '' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    t.is(res.status, 'SERVING');
    const ok = await sendRaw(raw, [requestHeaders]);
    t.is(ok.status.code, grpc.status.OK);
    t.is(ok.replies, 1);
  });
}

test('every stream span ends exactly once, including cancelled and failed streams', async (t) => {
  const { svc, raw } = await service(t);
  await sendRaw(raw, [requestHeaders]);
  await sendRaw(raw, [requestHeaders, requestHeaders]);
  // Cancelled by the client mid-exchange (as Envoy does on a message timeout or client reset).
  await new Promise<void>((resolve) => {
    const call = raw.makeBidiStreamRequest(
      PROCESS,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    call.on('error', () => undefined);
    call.on('data', () => call.cancel());
    call.on('status', () => resolve());
    call.write(requestHeaders);
  });
  await new Promise((r) => setTimeout(r, 100));
  const m = svc.metrics;
  t.is(m.get('spans_started_total'), 3);
  t.is(m.get('spans_ended_total'), 3);
  t.is(m.activeStreams, 0);
});
