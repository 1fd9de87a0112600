// The OTLP and google.rpc message types, taken from published packages rather than written here:
//
// - OTLP (opentelemetry.proto.*): the protobufjs static module that OpenTelemetry JS generated
//   with `pbjs` from the official opentelemetry-proto files and published in
//   @opentelemetry/otlp-proto-exporter-base@0.51.1 (build/src/generated/root.js). It holds
//   ExportTraceServiceRequest/Response including partial_success. analysis/README.md says why
//   this package and not another.
// - google.rpc.Status / RetryInfo (the OTLP error body and the gRPC retry hint): the official
//   googleapis .proto files shipped in @grpc/grpc-js-xds (deps/googleapis), loaded by protobufjs
//   reflection; google/protobuf/{any,duration} come with protobufjs itself.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import type { PbExportTraceServiceRequest } from './decoded.ts';

const require = createRequire(import.meta.url);

interface StaticMessage<T> {
  decode(reader: Uint8Array): T;
  encode(message: unknown): { finish(): Uint8Array };
  fromObject(object: unknown): unknown;
}

interface OtlpRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: StaticMessage<PbExportTraceServiceRequest>;
            ExportTraceServiceResponse: StaticMessage<unknown>;
          };
        };
      };
    };
  };
}

const otlp = (require('@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js') as OtlpRoot).opentelemetry
  .proto.collector.trace.v1;

export const ExportTraceServiceRequest = otlp.ExportTraceServiceRequest;
export const ExportTraceServiceResponse = otlp.ExportTraceServiceResponse;

const googleapis = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps', 'googleapis');

function loadGoogleRpc(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(googleapis, target));
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  root.resolveAll();
  return root;
}

const rpc = loadGoogleRpc();
export const RpcStatus = rpc.lookupType('google.rpc.Status');
export const RetryInfo = rpc.lookupType('google.rpc.RetryInfo');
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** gRPC status codes used in OTLP error bodies (google.rpc.Code values). */
export const RpcCode = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;
