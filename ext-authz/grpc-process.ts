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
 * Error whose stack it reads. With source maps on (tsx turns them on) that read resolves every
 * frame through the source-map cache — under bench:ext-proc ~10% of the service's allocations and
 * CPU. Nothing here prints stacks (log.ts logs messages), so the process turns source maps off
 * once its modules are loaded. Process-wide, so it is the entry point's call, not startService's.
 */
export function quietStreamResets(): void {
  process.setSourceMapsEnabled(false);
}
