// The generators' decisions, asserted directly (the golden files pin the full output; these
// name the rules): direction ↔ WasmPlugin match mode, who gets a WasmPlugin, sha256 precedence,
// fields Istio ignores left out, Telemetry modes, collector addressing, inputs never mutated.
import test from 'ava';
import {
  collectorResources,
  filterConfig,
  gatewayBootstrap,
  loadBalancerBootstrap,
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
  t.deepEqual(Object.keys(fc).sort(), ['direction', 'propagation', 'sampling', 'service_name', 'traceresponse']);
  fc.propagation.inbound.push('jaeger');
  t.deepEqual(cfg.propagation.inbound, ['w3c', 'b3', 'b3multi'], 'the config is untouched');
  (fc.sampling as { probability: number }).probability = 1;
  t.deepEqual(cfg.sampling, { probability: 0.5 }, 'the sampling section is copied');
});

test('sampling: passed on with trust.boundary by role (edge at the gateway and lb listener, internal elsewhere)', (t) => {
  const cfg = config({
    sampling: { probability: 0.25 },
    gateway: { port: 8080, routes: [{ prefix: '/', service: 'web' }] },
    load_balancer: { port: 8090, upstreams: ['127.0.0.1:7001'] },
  });
  const boundaries = (b: unknown) =>
    filterConfigs(b).map((f) => (f as { sampling?: { trust?: { boundary?: string } } }).sampling?.trust?.boundary);
  t.deepEqual(boundaries(sidecarBootstrap(cfg, 'web', { wasmFile: '/x.wasm' })), ['internal'], 'sidecar (db is TCP)');
  t.deepEqual(boundaries(gatewayBootstrap(cfg, { wasmFile: '/x.wasm' })), ['edge']);
  t.deepEqual(
    boundaries(loadBalancerBootstrap(cfg, { wasmFile: '/x.wasm' })).sort(),
    ['edge', 'internal'],
    'listener edge, per-attempt internal',
  );
  for (const p of wasmPlugins(cfg))
    t.like(p.spec?.pluginConfig, { sampling: { probability: 0.25, trust: { boundary: 'internal' } } }, p.metadata.name);
  const own = config({ sampling: { trust: { boundary: 'edge', inbound_context: 'link' } } });
  t.deepEqual(
    filterConfig(own, 'web', 'inbound', { boundary: 'internal' }).sampling,
    { trust: { boundary: 'edge', inbound_context: 'link' } },
    "the section's own boundary wins",
  );
  t.false('sampling' in filterConfig(config(), 'web', 'inbound'), 'no section written, none passed on');
});

interface ExportOf {
  export?: Record<string, unknown>;
}

/** The filter configurations (Wasm `configuration.value` strings) anywhere in a bootstrap. */
function filterConfigs(node: unknown): ExportOf[] {
  if (Array.isArray(node)) return node.flatMap(filterConfigs);
  if (node === null || typeof node !== 'object') return [];
  const value = (node as { configuration?: { value?: unknown } }).configuration?.value;
  if (typeof value === 'string') return [JSON.parse(value) as ExportOf];
  return Object.values(node).flatMap(filterConfigs);
}

function sidecarParts(cfg: MeshtraceConfig) {
  const b = sidecarBootstrap(cfg, 'web', { wasmFile: '/x.wasm' }) as {
    static_resources: { clusters: Record<string, unknown>[]; listeners: unknown[] };
  };
  const filter = filterConfigs(b.static_resources.listeners)[0];
  return { clusters: b.static_resources.clusters, filter };
}

test('export: an otlp_http collector becomes the filter export section and a collector cluster', (t) => {
  const cfg = config({ collector: { endpoint: 'http://otel.example:4318', max_queue: 10, timeout_ms: 300 } });
  const { clusters, filter } = sidecarParts(cfg);
  t.deepEqual(filter?.export, {
    cluster: 'meshtrace_collector',
    authority: 'otel.example:4318',
    path: '/v1/traces',
    encoding: 'protobuf',
    queue_size: 64, // raised to one batch: the filter refuses queue_size < batch_size
    timeout_ms: 300,
  });
  const collector = clusters.find((c) => c.name === 'meshtrace_collector');
  t.like(collector, { type: 'STRICT_DNS' });
  t.false('transport_socket' in (collector ?? {}), 'plain http: no TLS');
});

test('export: an https endpoint keeps its path and gets TLS with SNI', (t) => {
  const cfg = config({ collector: { endpoint: 'https://otel.example/otlp/v1/traces' } });
  const { clusters, filter } = sidecarParts(cfg);
  t.like(filter?.export, { authority: 'otel.example:443', path: '/otlp/v1/traces' });
  t.like(
    clusters.find((c) => c.name === 'meshtrace_collector'),
    {
      transport_socket: { typed_config: { sni: 'otel.example' } },
    },
  );
});

test('export: none without a collector, none for otlp_grpc (the filter speaks OTLP/HTTP), none without the filter', (t) => {
  for (const [name, cfg] of [
    ['no collector', config()],
    ['otlp_grpc', config({ collector: { endpoint: 'http://otel.example:4317', protocol: 'otlp_grpc' } })],
  ] as const) {
    const { clusters, filter } = sidecarParts(cfg);
    t.is(filter?.export, undefined, name);
    t.false(
      clusters.some((c) => c.name === 'meshtrace_collector'),
      name,
    );
  }
  const noWasm = sidecarBootstrap(config({ collector: { endpoint: 'http://otel.example:4318' } }), 'web') as {
    static_resources: { clusters: { name: string }[] };
  };
  t.false(
    noWasm.static_resources.clusters.some((c) => c.name === 'meshtrace_collector'),
    'no filter, no cluster',
  );
});

test('export: Istio pluginConfig targets the ServiceEntry cluster outbound|<port>||<host>', (t) => {
  const [dns] = wasmPlugins(config({ collector: { endpoint: 'http://otel.obs.svc.cluster.local:4318' } }));
  t.like((dns?.spec?.pluginConfig as ExportOf | undefined)?.export, {
    cluster: 'outbound|4318||otel.obs.svc.cluster.local',
    authority: 'otel.obs.svc.cluster.local:4318',
  });
  const cfg = config({ collector: { endpoint: 'http://10.0.0.7:4318' } });
  const [ip] = wasmPlugins(cfg);
  const [entry] = collectorResources(cfg);
  const host = (entry?.spec?.hosts as string[] | undefined)?.[0];
  t.is(host, 'collector.meshtrace.local');
  t.like(
    (ip?.spec?.pluginConfig as ExportOf | undefined)?.export,
    { cluster: `outbound|4318||${host}` },
    'the host the ServiceEntry registers',
  );
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
