// Every generated artefact for a meshtrace.yaml, by golden-file name. Shared by the golden,
// Istio-schema and envoy-validate tests so they all cover the same set.
import {
  allBootstraps,
  allIstioResources,
  type BootstrapOptions,
  type EnvoyBootstrap,
  type K8sResource,
  loadConfig,
  namespaceManifests,
  workloadPatches,
} from '../../mesh-config/index.ts';

export const FIXTURES = {
  example: 'examples/meshtrace.yaml',
  'authz-mesh-wide': 'test/mesh-config/fixtures/authz-mesh-wide.yaml',
} as const;

/** A fixed digest so goldens do not change with every filter build. */
export const GOLDEN_SHA256 = '5e'.repeat(32);
export const GOLDEN_WASM = '/opt/meshtrace/meshtrace-filter.wasm';

export function istioArtefacts(fixture: keyof typeof FIXTURES): Map<string, K8sResource> {
  const cfg = loadConfig(FIXTURES[fixture]);
  const out = new Map<string, K8sResource>();
  for (const r of allIstioResources(cfg, { sha256: cfg.wasm.sha256 ?? GOLDEN_SHA256 }))
    out.set(`${fixture}/${r.kind.toLowerCase()}-${r.metadata.name}`, r);
  return out;
}

export function enablementArtefacts(fixture: keyof typeof FIXTURES): Map<string, unknown> {
  const cfg = loadConfig(FIXTURES[fixture]);
  const out = new Map<string, unknown>();
  for (const n of namespaceManifests(cfg)) out.set(`${fixture}/namespace-${(n.metadata as { name: string }).name}`, n);
  for (const p of workloadPatches(cfg)) out.set(`${fixture}/patch-${p.namespace}-${p.service}`, p.patch);
  return out;
}

export function bootstrapArtefacts(
  fixture: keyof typeof FIXTURES,
  opts: BootstrapOptions = { wasmFile: GOLDEN_WASM },
): Map<string, EnvoyBootstrap> {
  const cfg = loadConfig(FIXTURES[fixture]);
  const out = new Map<string, EnvoyBootstrap>();
  for (const [name, b] of allBootstraps(cfg, opts)) out.set(`${fixture}/bootstrap-${name}`, b);
  return out;
}
