// `meshtrace ext-proc --config file.yaml` — the Envoy ext_proc service (ext-authz/README.md).
import { runService } from '../../ext-authz/cli.ts';

export const summary = 'run the ext_proc gRPC service that enriches and propagates traces (--config file.yaml)';

export function run(args: string[]): Promise<number> {
  return runService('ext-proc', args);
}
