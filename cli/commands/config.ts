// `meshtrace config <target> -f meshtrace.yaml [-o dir]` — prints (or writes) what operators
// deploy, each resource validated first: Istio resources against the published CRD schemas,
// Envoy bootstraps by the real `envoy --mode validate`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import {
  allIstioResources,
  ConfigError,
  collectorResources,
  type EnvoyBootstrap,
  extServiceEnvoyFilter,
  gatewayBootstrap,
  istioOperatorOverlay,
  type K8sResource,
  loadBalancerBootstrap,
  loadConfig,
  type MeshtraceConfig,
  namespaceManifests,
  sidecarBootstrap,
  telemetry,
  validateBootstrap,
  validateIstioResources,
  wasmPlugins,
  workloadPatches,
} from '../../mesh-config/index.ts';

export const summary = 'generate Istio resources or Envoy bootstraps from meshtrace.yaml';

const TARGETS = ['wasmplugin', 'envoyfilter', 'telemetry', 'collector', 'providers', 'enable', 'istio', 'bootstrap'];

const USAGE = `usage: meshtrace config <target> -f meshtrace.yaml [-o dir] [options]

targets:
  wasmplugin    Istio WasmPlugins loading the meshtrace filter (inbound + outbound per service)
  envoyfilter   Istio EnvoyFilter inserting ext_proc / ext_authz at the ingress gateway
  telemetry     Istio Telemetry keeping Istio's own sampling off or aligned
  collector     ServiceEntry + DestinationRule for the OTLP collector
  providers     IstioOperator overlay with meshConfig.extensionProviders
  enable        Namespace labels and per-workload pod-template patches
  istio         all of the Istio targets above
  bootstrap     Envoy bootstrap: --role sidecar|gateway|lb (sidecar needs --service NAME)

options:
  -f, --file FILE     meshtrace.yaml (default ./meshtrace.yaml)
  -o, --out DIR       write one file per resource into DIR instead of printing YAML
  --wasm FILE         the built filter (default wasm.local_file); its sha256 goes into WasmPlugins
  --no-wasm           bootstrap without the Wasm filter
  --no-validate       skip validation (not recommended)`;

interface Args {
  target?: string;
  file: string;
  out?: string;
  role?: string;
  service?: string;
  wasm?: string;
  noWasm: boolean;
  validate: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { file: 'meshtrace.yaml', noWasm: false, validate: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '-f' || arg === '--file') a.file = value();
    else if (arg === '-o' || arg === '--out') a.out = value();
    else if (arg === '--role') a.role = value();
    else if (arg === '--service') a.service = value();
    else if (arg === '--wasm') a.wasm = value();
    else if (arg === '--no-wasm') a.noWasm = true;
    else if (arg === '--no-validate') a.validate = false;
    else if (!arg.startsWith('-') && a.target === undefined) a.target = arg;
    else throw new UsageError(`unknown argument '${arg}'`);
  }
  return a;
}

class UsageError extends Error {}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function istioFor(target: string, cfg: MeshtraceConfig, sha256: string | undefined): K8sResource[] {
  switch (target) {
    case 'wasmplugin':
      return wasmPlugins(cfg, { sha256 });
    case 'envoyfilter': {
      const ef = extServiceEnvoyFilter(cfg);
      if (!ef) throw new UsageError('meshtrace.yaml has no ext_proc section, so there is no EnvoyFilter to generate');
      return [ef];
    }
    case 'telemetry':
      return [telemetry(cfg)];
    case 'collector':
      if (!cfg.collector) throw new UsageError('meshtrace.yaml has no collector section');
      return collectorResources(cfg);
    case 'providers':
      return [istioOperatorOverlay(cfg)];
    default:
      return allIstioResources(cfg, { sha256 });
  }
}

function emit(docs: { name: string; body: unknown }[], out: string | undefined): void {
  if (out === undefined) {
    process.stdout.write(docs.map((d) => stringify(d.body, { lineWidth: 0 })).join('---\n'));
    return;
  }
  mkdirSync(out, { recursive: true });
  for (const d of docs) {
    const path = join(out, `${d.name}.yaml`);
    writeFileSync(path, stringify(d.body, { lineWidth: 0 }));
    console.error(`wrote ${path}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.target === undefined || !TARGETS.includes(args.target))
      throw new UsageError(args.target === undefined ? 'missing target' : `unknown target '${args.target}'`);
  } catch (err) {
    console.error(`meshtrace config: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    const cfg = loadConfig(args.file);
    const wasmFile = args.noWasm ? undefined : resolve(args.wasm ?? cfg.wasm.local_file);
    const haveWasm = wasmFile !== undefined && existsSync(wasmFile);
    if (args.wasm !== undefined && !haveWasm) throw new UsageError(`--wasm ${args.wasm}: no such file`);

    if (args.target === 'enable') {
      const docs = [
        ...namespaceManifests(cfg).map((n) => ({
          name: `namespace-${(n.metadata as { name: string }).name}`,
          body: n,
        })),
        ...workloadPatches(cfg).map((p) => ({ name: `patch-${p.namespace}-${p.service}`, body: p.patch })),
      ];
      emit(docs, args.out);
      return 0;
    }

    if (args.target === 'bootstrap') {
      if (!haveWasm && !args.noWasm)
        throw new UsageError(
          `the filter is not built: ${wasmFile} does not exist (run \`npm run build:wasm\`, pass --wasm FILE, or --no-wasm)`,
        );
      const opts = { wasmFile: haveWasm ? wasmFile : undefined };
      let bootstrap: EnvoyBootstrap;
      let name: string;
      if (args.role === 'sidecar') {
        if (!args.service) throw new UsageError('--role sidecar needs --service NAME (a name from services)');
        bootstrap = sidecarBootstrap(cfg, args.service, opts);
        name = `bootstrap-sidecar-${args.service}`;
      } else if (args.role === 'gateway') {
        bootstrap = gatewayBootstrap(cfg, opts);
        name = 'bootstrap-gateway';
      } else if (args.role === 'lb') {
        bootstrap = loadBalancerBootstrap(cfg, opts);
        name = 'bootstrap-lb';
      } else {
        throw new UsageError(`--role must be sidecar, gateway or lb${args.role ? ` (got '${args.role}')` : ''}`);
      }
      if (args.validate) {
        const res = await validateBootstrap(bootstrap);
        if (!res.ok) throw new Error(`envoy --mode validate rejected the ${args.role} bootstrap:\n${res.error}`);
      }
      emit([{ name, body: bootstrap }], args.out);
      return 0;
    }

    const sha256 = cfg.wasm.sha256 ?? (haveWasm ? sha256Of(wasmFile as string) : undefined);
    const resources = istioFor(args.target, cfg, sha256);
    if (args.validate) validateIstioResources(resources);
    emit(
      resources.map((r) => ({ name: `${r.kind.toLowerCase()}-${r.metadata.name}`, body: r })),
      args.out,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(`meshtrace config: ${err.message}`);
      return 2;
    }
    console.error(`meshtrace config: ${(err as Error).message}`);
    return 1;
  }
}
