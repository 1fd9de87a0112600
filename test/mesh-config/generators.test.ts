// The generators' decisions, asserted directly (the golden files pin the full output; these
// name the rules): direction ↔ WasmPlugin match mode, who gets a WasmPlugin, sha256 precedence,
// fields Istio ignores left out, Telemetry modes, collector addressing, inputs never mutated.
import test from 'ava';
import {
  collectorResources,
  filterConfig,
  type MeshtraceConfig,
  parseConfig,
  sidecarBootstrap,
  telemetry,
  wasmPlugins,
} from '../../mesh-config/index.ts';

function config(extra: Record<string, unknown> = {}): MeshtraceConfig {
  return parseConfig({
    version: 1,
    services: [
      {
        name: 'web',
        namespace: 'shop',
        address: '127.0.0.1:7001',
        sidecar: { inbound_port: 7101 },
        dependencies: [{ service: 'db', listen_port: 7201 }],
      },
      { name: 'db', address: '127.0.0.1:6379', protocol: 'tcp' },
    ],
    ...extra,
  });
}

type Spec = {
  match: { mode: string }[];
  pluginConfig: { direction: string; service_name: string };
  sha256?: string;
  imagePullPolicy?: string;
};

test('each HTTP service gets a SERVER (inbound) and a CLIENT (outbound) WasmPlugin; TCP services none', (t) => {
  const plugins = wasmPlugins(config());
  t.deepEqual(
    plugins.map((p) => [
      p.metadata.name,
      p.metadata.namespace,
      (p.spec as Spec).match[0]?.mode,
      (p.spec as Spec).pluginConfig.direction,
    ]),
    [
      ['meshtrace-web-inbound', 'shop', 'SERVER', 'inbound'],
      ['meshtrace-web-outbound', 'shop', 'CLIENT', 'outbound'],
    ],
  );
});

test('without services, one mesh-wide pair in the root namespace, no selector', (t) => {
  const plugins = wasmPlugins(parseConfig({ version: 1, istio: { root_namespace: 'mesh-root' } }));
  t.is(plugins.length, 2);
  for (const p of plugins) {
    t.is(p.metadata.namespace, 'mesh-root');
    t.false('selector' in (p.spec as object));
    t.is((p.spec as Spec).pluginConfig.service_name, 'unknown_service');
  }
});

test('sha256: the built file (option) wins over meshtrace.yaml; none when neither is known', (t) => {
  const pinned = config({ wasm: { sha256: 'a'.repeat(64) } });
  t.is((wasmPlugins(pinned)[0]!.spec as Spec).sha256, 'a'.repeat(64));
  t.is((wasmPlugins(pinned, { sha256: 'b'.repeat(64) })[0]!.spec as Spec).sha256, 'b'.repeat(64));
  t.false('sha256' in (wasmPlugins(config())[0]!.spec as object));
});

test('imagePullPolicy only for oci:// urls (Istio ignores it otherwise)', (t) => {
  t.is((wasmPlugins(config())[0]!.spec as Spec).imagePullPolicy, 'IfNotPresent');
  const file = config({ wasm: { url: 'file:///opt/meshtrace.wasm' } });
  t.false('imagePullPolicy' in (wasmPlugins(file)[0]!.spec as object));
});

test('Telemetry: off disables Istio sampling; align follows sampling.probability', (t) => {
  const off = telemetry(config()).spec as { tracing: Record<string, unknown>[] };
  t.deepEqual(off.tracing[0], { randomSamplingPercentage: 0, disableSpanReporting: true });
  const align = telemetry(config({ istio: { own_sampling: 'align' }, sampling: { probability: 0.125 } })).spec as {
    tracing: Record<string, unknown>[];
  };
  t.is(align.tracing[0]?.randomSamplingPercentage, 12.5);
  t.deepEqual(align.tracing[0]?.providers, [{ name: 'meshtrace' }]);
});

test('collector: an IP gets a registry host + STATIC endpoint, a cluster name gets DNS and MESH_INTERNAL', (t) => {
  const [ipEntry] = collectorResources(config({ collector: { endpoint: 'http://10.1.2.3:4318' } }));
  t.like(ipEntry?.spec, {
    hosts: ['collector.meshtrace.local'],
    addresses: ['10.1.2.3/32'],
    resolution: 'STATIC',
    location: 'MESH_EXTERNAL',
  });
  const [dnsEntry, rule] = collectorResources(
    config({ collector: { endpoint: 'https://otel.obs.svc.cluster.local:4317', protocol: 'otlp_grpc' } }),
  );
  t.like(dnsEntry?.spec, { hosts: ['otel.obs.svc.cluster.local'], resolution: 'DNS', location: 'MESH_INTERNAL' });
  t.like(rule?.spec, { trafficPolicy: { tls: { mode: 'SIMPLE' } } });
  t.deepEqual(collectorResources(config()), [], 'no collector section, nothing generated');
});

test('filter config holds only the keys the filter reads, and copies its inputs', (t) => {
  const cfg = config({ sampling: { probability: 0.5 }, enrichment: { resource: { env: 'x' } } });
  const fc = filterConfig(cfg, 'web', 'outbound');
  t.deepEqual(Object.keys(fc).sort(), ['direction', 'propagation', 'service_name', 'traceresponse']);
  fc.propagation.inbound.push('jaeger');
  t.deepEqual(cfg.propagation.inbound, ['w3c', 'b3', 'b3multi'], 'the config is untouched');
});

test('sidecar: a TCP dependency is a tcp_proxy listener, an HTTP one an HCM with the filter outbound', (t) => {
  const b = sidecarBootstrap(config(), 'web', { wasmFile: '/x.wasm' }) as {
    static_resources: { listeners: { name: string; filter_chains: { filters: { name: string }[] }[] }[] };
  };
  const byName = new Map(b.static_resources.listeners.map((l) => [l.name, l.filter_chains[0]?.filters[0]?.name]));
  t.is(byName.get('inbound'), 'envoy.filters.network.http_connection_manager');
  t.is(byName.get('outbound_db'), 'envoy.filters.network.tcp_proxy');
  t.throws(() => sidecarBootstrap(config(), 'db'), {
    message: /services\[1\]\.sidecar\.inbound_port: is required for a sidecar/,
  });
});
