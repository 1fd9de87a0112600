// The floor under any ext_proc service written on @grpc/grpc-js: the same protos and server,
// and a Process handler that does nothing but answer each ProcessingRequest with the empty
// response of the same arm. bench:ext-proc runs it as a row, so what meshtrace adds on top of
// grpc-js (enrichment, span, export) is told apart from what one gRPC bidi stream per request
// costs. Prints {"msg":"ready","port":N} once listening; SIGTERM stops it.
import * as grpc from '@grpc/grpc-js';
import type { ProcessingRequest, ProcessingResponse } from '../../ext-authz/envoy-types.ts';
import { loadServices } from '../../ext-authz/protos.ts';
import { quietStreamResets } from '../../ext-authz/grpc-process.ts';

const server = new grpc.Server();
server.addService(loadServices().extProc, {
  Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
    call.on('data', (msg: ProcessingRequest) => {
      if (msg.request !== undefined && call.writable) call.write({ [msg.request]: {} });
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`ext-proc floor server: ${err.message}`);
    process.exit(1);
  }
  // The same process setting as `meshtrace ext-proc` (grpc-process.ts), so the rows differ only
  // in what the handler does.
  quietStreamResets();
  console.log(JSON.stringify({ msg: 'ready', port }));
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
