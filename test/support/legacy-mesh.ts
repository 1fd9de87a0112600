// The legacy topology of issue 9 behind real Envoy sidecars, for the linking tests and
// `npm run bench:linking`. Four services that forward no trace headers (examples/legacy/), each
// with its own Envoy (inbound + outbound listeners, the built meshtrace filter, two worker
// threads so the registry really is crossed between threads), generated from a meshtrace.yaml
// by the same code operators use:
//
//   client ─▶ [frontend (Python)] ─┬─▶ [inventory (Go)] ─┬─▶ [stock (Python, leaf)]
//                                  │                     └─▶ [pricing (Node)] ─▶ [stock]
//                                  └─▶ [pricing (Node)] ─▶ [stock]
//
// Every service writes its ground truth (x-request-id received → x-request-ids sent) to a file
// under `dir`; `truth()` reads them. Nothing here is a fake: real processes, real Envoy.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../core/envoy-binary.ts';
import type { GroundTruth } from '../../analysis/linking/score.ts';
import { sidecarBootstrap } from '../../mesh-config/envoy/bootstrap.ts';
import { parseConfig } from '../../mesh-config/load.ts';
import { buildGoService } from '../../mesh-config/local/prerequisites.ts';
import type { LinkingParameters } from '../../mesh-config/types.ts';
import { type RunningEnvoy, startEnvoy } from './envoy.ts';
import { freePorts } from './ports.ts';
import { type OwnedProcess, startProcess, type Teardown, waitFor } from './process.ts';

export const LEGACY_DIR = join(repoRoot, 'examples', 'legacy');
const WASM = join(repoRoot, 'wasm-filters', 'build', 'meshtrace-filter.wasm');

type Name = 'frontend' | 'inventory' | 'pricing' | 'stock';
const NAMES: Name[] = ['frontend', 'inventory', 'pricing', 'stock'];
/** Who calls whom, and the env var each caller reads the callee's URL from. */
const DEPENDENCIES: Record<Name, { service: Name; env: string }[]> = {
  frontend: [
    { service: 'inventory', env: 'INVENTORY_URL' },
    { service: 'pricing', env: 'PRICING_URL' },
  ],
  inventory: [
    { service: 'stock', env: 'STOCK_URL' },
    { service: 'pricing', env: 'PRICING_URL' },
  ],
  pricing: [{ service: 'stock', env: 'STOCK_URL' }],
  stock: [],
};

export interface LegacyMeshOptions {
  /** OTLP/HTTP endpoint of the collector the sidecars export to (http://127.0.0.1:port). */
  collector: string;
  /** Link at the sidecars (default true); false = what a mesh gives today. */
  linking?: boolean;
  /** Overrides of meshtrace.yaml's linking section. */
  linkingParameters?: Partial<LinkingParameters>;
  /** Envoy worker threads per sidecar (default 2). */
  envoyConcurrency?: number;
}

export interface LegacyMesh {
  /** The frontend's sidecar inbound listener: where clients send GET /order/<n>. */
  entry: string;
  envoys: Map<Name, RunningEnvoy>;
  services: Map<Name, OwnedProcess>;
  /** GET /order/<n> with x-request-id `id` (the request's ground-truth key); resolves with the status. */
  order(n: number, id: string): Promise<number>;
  /** Every line the services wrote so far. */
  truth(): GroundTruth[];
  /** Sum of an Envoy counter (e.g. `wasmcustom.meshtrace.link.single`) over the sidecars. */
  counter(name: string): Promise<number>;
}

function goBinary(): string {
  const which = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('go is not installed: the legacy inventory service is written in Go');
  return buildGoService(which.stdout.trim(), join(LEGACY_DIR, 'inventory'), 'legacy-inventory', () => {});
}

export async function startLegacyMesh(t: Teardown, options: LegacyMeshOptions): Promise<LegacyMesh> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-legacy-'));
  const [a1, a2, a3, a4, s1, s2, s3, s4, o1, o2, o3, o4, o5] = await freePorts(13);
  const app: Record<Name, number> = { frontend: a1!, inventory: a2!, pricing: a3!, stock: a4! };
  const sidecar: Record<Name, number> = { frontend: s1!, inventory: s2!, pricing: s3!, stock: s4! };
  const outbound: Record<string, number> = {
    'frontend>inventory': o1!,
    'frontend>pricing': o2!,
    'inventory>stock': o3!,
    'inventory>pricing': o4!,
    'pricing>stock': o5!,
  };
  const linking = options.linking !== false;
  const cfg = parseConfig(
    {
      version: 1,
      collector: { endpoint: options.collector, protocol: 'otlp_http' },
      linking: options.linkingParameters ?? {},
      services: NAMES.map((name) => ({
        name,
        namespace: 'legacy',
        address: `127.0.0.1:${app[name]}`,
        linking,
        sidecar: { inbound_port: sidecar[name] },
        dependencies: DEPENDENCIES[name].map((d) => ({
          service: d.service,
          listen_port: outbound[`${name}>${d.service}`]!,
        })),
      })),
    },
    'meshtrace.yaml (legacy topology)',
  );

  const truthFile = (name: Name) => join(dir, `${name}.jsonl`);
  const env = (name: Name): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { PORT: String(app[name]), GROUND_TRUTH: truthFile(name) };
    for (const d of DEPENDENCIES[name]) e[d.env] = `http://127.0.0.1:${outbound[`${name}>${d.service}`]}`;
    return e;
  };
  const services = new Map<Name, OwnedProcess>();
  services.set('frontend', startProcess(t, 'python3', [join(LEGACY_DIR, 'frontend.py')], { env: env('frontend') }));
  services.set('inventory', startProcess(t, goBinary(), [], { env: env('inventory') }));
  services.set(
    'pricing',
    startProcess(t, process.execPath, [join(LEGACY_DIR, 'pricing.mjs')], { env: env('pricing') }),
  );
  services.set('stock', startProcess(t, 'python3', [join(LEGACY_DIR, 'stock.py')], { env: env('stock') }));
  for (const name of NAMES) {
    const proc = services.get(name)!;
    await waitFor(`the legacy ${name} service`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`${name} exited:\n${proc.output()}`);
      return (await fetch(`http://127.0.0.1:${app[name]}/healthz`)).ok;
    });
  }

  const envoys = new Map<Name, RunningEnvoy>();
  for (const name of NAMES) {
    const bootstrap = sidecarBootstrap(cfg, name, { wasmFile: WASM });
    envoys.set(name, await startEnvoy(t, bootstrap, { concurrency: options.envoyConcurrency ?? 2 }));
  }
  const entry = `http://127.0.0.1:${sidecar.frontend}`;
  await waitFor('the frontend through its sidecar', async () => (await fetch(`${entry}/healthz`)).ok);

  return {
    entry,
    envoys,
    services,
    async order(n, id) {
      const res = await fetch(`${entry}/order/${n}`, { headers: { 'x-request-id': id } });
      await res.arrayBuffer();
      return res.status;
    },
    truth() {
      const out: GroundTruth[] = [];
      for (const name of NAMES) {
        let text = '';
        try {
          text = readFileSync(truthFile(name), 'utf8');
        } catch {
          continue; // nothing served yet
        }
        for (const line of text.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line) as GroundTruth);
      }
      return out;
    },
    async counter(name) {
      let sum = 0;
      for (const e of envoys.values()) sum += (await e.stats(name)).get(name) ?? 0;
      return sum;
    },
  };
}

/** The ground-truth lines reachable from `roots` (the requests a test or bench level sent). */
export function truthOf(truth: readonly GroundTruth[], roots: readonly string[]): GroundTruth[] {
  const byIn = new Map(truth.map((g) => [g.in, g]));
  const out: GroundTruth[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const g = byIn.get(stack.pop()!);
    if (g === undefined) continue;
    out.push(g);
    stack.push(...g.out);
  }
  return out;
}
