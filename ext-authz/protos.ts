// Loads the gRPC service definitions this service implements. Envoy's API protos come from the
// copy published inside @grpc/grpc-js-xds (deps/envoy-api and its imports) — see README.md,
// "Proto source", for why and for what that copy lacks. The health proto is our own
// transcription of grpc.health.v1.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const xdsRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const deps = join(xdsRoot, 'deps');
const ownProtos = join(dirname(fileURLToPath(import.meta.url)), 'proto');

export const includeDirs = [
  join(deps, 'envoy-api'),
  join(deps, 'xds'),
  join(deps, 'googleapis'),
  join(deps, 'protoc-gen-validate'),
  ownProtos,
];

// keepCase: field names stay as in the .proto (request_headers), matching Envoy's docs.
// oneofs: the decoded object names the set arm (`request`), so dispatch is one switch.
// defaults false: an unset field reads as undefined, so "absent" and "empty" stay distinct.
const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs,
};

export interface Services {
  extProc: grpc.ServiceDefinition;
  authorization: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
}

let cached: Services | undefined;

/** Parses the protos once per process (~150 ms) and returns the three service definitions. */
export function loadServices(): Services {
  if (cached) return cached;
  const def = protoLoader.loadSync(
    [
      'envoy/service/ext_proc/v3/external_processor.proto',
      'envoy/service/auth/v3/external_auth.proto',
      'grpc/health/v1/health.proto',
    ],
    loaderOptions,
  );
  const pick = (name: string): grpc.ServiceDefinition => {
    const svc = def[name];
    if (!svc || 'format' in svc) throw new Error(`proto service ${name} did not load`);
    return svc as grpc.ServiceDefinition;
  };
  cached = {
    extProc: pick('envoy.service.ext_proc.v3.ExternalProcessor'),
    authorization: pick('envoy.service.auth.v3.Authorization'),
    health: pick('grpc.health.v1.Health'),
  };
  return cached;
}

/** A client constructor for one of the services (tests, the health probe, the bench). */
export function clientFor(which: keyof Services): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(loadServices()[which], which);
}
