// The service process's stack handling (grpc-process.ts), in this test file's own process: the
// error Node makes for each ext_proc stream Envoy resets gets a one-line stack; any other error
// keeps its frames.
import http2 from 'node:http2';
import test from 'ava';
import { quietStreamResets } from '../../ext-authz/grpc-process.ts';

test('after quietStreamResets, a reset stream error has a one-line stack, other errors keep their frames', async (t) => {
  quietStreamResets();
  const other = new TypeError('something else');
  t.regex(other.stack ?? '', /^TypeError: something else\n {4}at /);

  // A real reset: a client RSTs a stream with INTERNAL_ERROR, as Envoy does to every ext_proc stream.
  const server = http2.createServer();
  const errors: Error[] = [];
  server.on('stream', (stream) => {
    stream.on('error', (err) => errors.push(err));
    stream.respond({ ':status': 200 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  t.teardown(() => client.close());
  const req = client.request({ ':path': '/' });
  req.on('error', () => undefined);
  await new Promise<void>((r) => req.on('response', () => r()));
  req.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  await new Promise<void>((r) => {
    const poll = () => (errors.length > 0 ? r() : setTimeout(poll, 10));
    poll();
  });
  const err = errors[0] as Error & { code?: string };
  t.is(err.code, 'ERR_HTTP2_STREAM_ERROR');
  t.is(err.stack, `${err.name}: ${err.message}`);
});
