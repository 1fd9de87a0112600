// `meshtrace ext-authz --config file.yaml` — the Envoy ext_authz service (ext-authz/README.md).
import { runService } from '../../ext-authz/cli.ts';

export const summary = 'run the ext_authz gRPC service: allow with trace headers, deny by policy (--config file.yaml)';

export function run(args: string[]): Promise<number> {
  return runService('ext-authz', args);
}
