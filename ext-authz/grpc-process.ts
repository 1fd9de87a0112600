// Process-level settings for a process whose gRPC server answers Envoy's ext_proc streams; shared
// by `meshtrace ext-proc|ext-authz` (cli.ts) and the bench's bare grpc-js floor server, so the two
// differ only in what their handlers do.
//
// Tried and dropped: 'grpc.enable_channelz': 0. It saves the per-call channelz bookkeeping, but in
// grpc-js 1.14.7 Server.forceShutdown() only destroys the sessions channelz tracked, so with it
// off a stream still open at the drain deadline was never cancelled (its span never ended, the
// process never exited; test/ext-authz/service.test.ts "drain timeout").

/**
 * For a process that serves ext_proc: Envoy 1.40 ends every ext_proc stream with
 * RST_STREAM(INTERNAL_ERROR) once it has its last answer, and Node's http2 turns each into an
 * ERR_HTTP2_STREAM_ERROR whose stack it reads at once (internal/streams/destroy.js checkError).
 * With source maps on (tsx turns them on) that read resolved every frame through the source-map
 * cache — ~10% of the service's CPU and allocations under bench:ext-proc — and even V8's plain
 * formatting of those frames was ~3% more. Nothing here prints stacks (log.ts logs messages), so
 * once its modules are loaded the process turns source maps off and formats the stack of that one
 * error code as its first line only; every other error keeps V8's format. Process-wide, so it is
 * the entry point's call, not startService's.
 */
export function quietStreamResets(): void {
  process.setSourceMapsEnabled(false);
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (err: Error, frames: NodeJS.CallSite[]) => {
    if ((err as { code?: unknown }).code === 'ERR_HTTP2_STREAM_ERROR') return `${err.name}: ${err.message}`;
    if (previous) return previous(err, frames);
    // V8's default format.
    const head = Error.prototype.toString.call(err);
    return frames.length === 0 ? head : `${head}\n    at ${frames.join('\n    at ')}`;
  };
}
