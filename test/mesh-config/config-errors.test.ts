// Bad meshtrace.yaml inputs: each must fail with exactly one line naming the field. The case
// name is the assertion message (a named table, as in the style notes).
import test from 'ava';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../mesh-config/index.ts';

type Doc = Record<string, unknown>;

function base(): Doc {
  return {
    version: 1,
    collector: { endpoint: 'http://127.0.0.1:4318' },
    services: [
      {
        name: 'web',
        address: '127.0.0.1:7001',
        sidecar: { inbound_port: 7101 },
        dependencies: [{ service: 'api', listen_port: 7201 }],
      },
      { name: 'api', address: '127.0.0.1:7002', sidecar: { inbound_port: 7102 } },
    ],
    gateway: { port: 8080, routes: [{ prefix: '/', service: 'web' }] },
  };
}

const cases: { name: string; edit: (d: Doc) => void; error: string }[] = [
  {
    name: 'sampling rule rate above 1',
    edit: (d) => {
      d.sampling = { rules: [{ action: 'always' }, { action: 'never' }, { action: 'rate', rate: 1.5 }] };
    },
    error: 'meshtrace.yaml: sampling.rules[2].rate: must be ≤ 1',
  },
  {
    name: 'sampling probability negative',
    edit: (d) => {
      d.sampling = { probability: -0.1 };
    },
    error: 'meshtrace.yaml: sampling.probability: must be ≥ 0',
  },
  {
    name: 'rate rule without a rate',
    edit: (d) => {
      d.sampling = { rules: [{ action: 'rate' }] };
    },
    error: 'meshtrace.yaml: sampling.rules[0].rate: is required',
  },
  { name: 'version missing', edit: (d) => delete d.version, error: 'meshtrace.yaml: version: is required' },
  {
    name: 'version 2',
    edit: (d) => {
      d.version = 2;
    },
    error: 'meshtrace.yaml: version: must be 1',
  },
  {
    name: 'unknown top-level field',
    edit: (d) => {
      d.tracing = {};
    },
    error: 'meshtrace.yaml: tracing: unknown field',
  },
  {
    name: 'unknown propagation format',
    edit: (d) => {
      d.propagation = { inbound: ['w3c', 'xray'] };
    },
    error: 'meshtrace.yaml: propagation.inbound[1]: must be one of "w3c", "b3", "b3multi", "jaeger"',
  },
  {
    name: 'duplicate propagation format',
    edit: (d) => {
      d.propagation = { outbound: ['b3', 'b3'] };
    },
    error: 'meshtrace.yaml: propagation.outbound: has a duplicate entry (items 0 and 1)',
  },
  {
    name: 'linking threshold below 0.5',
    edit: (d) => {
      d.linking = { threshold: 0.3 };
    },
    error: 'meshtrace.yaml: linking.threshold: must be ≥ 0.5',
  },
  {
    name: 'linking flag not a boolean',
    edit: (d) => {
      (d.services as Record<string, unknown>[])[0]!.linking = 'yes';
    },
    error: 'meshtrace.yaml: services[0].linking: must be a boolean',
  },
  {
    name: 'collector endpoint not a URL',
    edit: (d) => {
      d.collector = { endpoint: 'collector:4318' };
    },
    error: 'meshtrace.yaml: collector.endpoint: must be an http:// or https:// URL',
  },
  {
    name: 'collector timeout too large',
    edit: (d) => {
      d.collector = { endpoint: 'http://c:4318', timeout_ms: 120000 };
    },
    error: 'meshtrace.yaml: collector.timeout_ms: must be ≤ 60000',
  },
  {
    name: 'wasm url with an unsupported scheme',
    edit: (d) => {
      d.wasm = { url: 'http://example.com/f.wasm' };
    },
    error: 'meshtrace.yaml: wasm.url: must start with oci://, https:// or file:///',
  },
  {
    name: 'wasm sha256 not hex',
    edit: (d) => {
      d.wasm = { sha256: 'abc' };
    },
    error: 'meshtrace.yaml: wasm.sha256: must be 64 lowercase hex digits (sha256 of the .wasm)',
  },
  {
    name: 'wasm phase misspelt',
    edit: (d) => {
      d.wasm = { phase: 'AUTH' };
    },
    error: 'meshtrace.yaml: wasm.phase: must be one of "UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"',
  },
  {
    name: 'wasm priority not an integer',
    edit: (d) => {
      d.wasm = { priority: 1.5 };
    },
    error: 'meshtrace.yaml: wasm.priority: must be an integer',
  },
  {
    name: 'ext_proc address without a port',
    edit: (d) => {
      d.ext_proc = { mode: 'ext_proc', address: 'ext-proc.meshtrace.svc' };
    },
    error: 'meshtrace.yaml: ext_proc.address: must be host:port',
  },
  {
    name: 'ext_proc mode missing',
    edit: (d) => {
      d.ext_proc = { address: '127.0.0.1:9001' };
    },
    error: 'meshtrace.yaml: ext_proc.mode: is required',
  },
  {
    name: 'enrichment copies the Authorization header',
    edit: (d) => {
      d.enrichment = {
        request_headers: [
          { header: 'x-tenant', attribute: 'tenant' },
          { header: 'authorization', attribute: 'auth' },
        ],
      };
    },
    error:
      'meshtrace.yaml: enrichment.request_headers[1].header: names a credential header, which is never copied into spans',
  },
  {
    name: 'trust boundary CIDR without a prefix length',
    edit: (d) => {
      d.trust = { boundaries: [{ name: 'lan', cidrs: ['10.0.0.0'], incoming: 'trust' }] };
    },
    error: 'meshtrace.yaml: trust.boundaries[0].cidrs[0]: must be a CIDR such as 10.0.0.0/8',
  },
  {
    name: 'service name with capitals',
    edit: (d) => {
      (d.services as Doc[])[1] = { name: 'Api', address: '127.0.0.1:7002' };
    },
    error: 'meshtrace.yaml: services[1].name: must be a lowercase DNS label (a-z, 0-9, -)',
  },
  {
    name: 'sidecar port out of range',
    edit: (d) => {
      ((d.services as Doc[])[0] as Doc).sidecar = { inbound_port: 70000 };
    },
    error: 'meshtrace.yaml: services[0].sidecar.inbound_port: must be ≤ 65535',
  },
  {
    name: 'duplicate service names',
    edit: (d) => {
      (d.services as Doc[]).push({ name: 'web', address: '127.0.0.1:7003' });
    },
    error: 'meshtrace.yaml: services[2].name: duplicates services[0].name "web"',
  },
  {
    name: 'dependency on an unknown service',
    edit: (d) => {
      ((d.services as Doc[])[0] as Doc).dependencies = [{ service: 'db', listen_port: 7201 }];
    },
    error: 'meshtrace.yaml: services[0].dependencies[0].service: names no service in services: "db"',
  },
  {
    name: 'gateway route to an unknown service',
    edit: (d) => {
      d.gateway = { routes: [{ prefix: '/', service: 'shop' }] };
    },
    error: 'meshtrace.yaml: gateway.routes[0].service: names no service in services: "shop"',
  },
  {
    name: 'two listeners on one port',
    edit: (d) => {
      ((d.services as Doc[])[1] as Doc).sidecar = { inbound_port: 8080 };
    },
    error: 'meshtrace.yaml: services[1].sidecar.inbound_port: port 8080 is already used by gateway.port',
  },
  {
    name: 'load balancer without upstreams',
    edit: (d) => {
      d.load_balancer = { upstreams: [] };
    },
    error: 'meshtrace.yaml: load_balancer.upstreams: must have at least 1 item',
  },
  {
    name: 'load balancer retry_on unknown condition',
    edit: (d) => {
      d.load_balancer = { upstreams: ['127.0.0.1:9001'], retries: { retry_on: ['5xx', 'timeout'] } };
    },
    error:
      'meshtrace.yaml: load_balancer.retries.retry_on[1]: must be one of "5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream"',
  },
  {
    name: 'istio own_sampling unknown mode',
    edit: (d) => {
      d.istio = { own_sampling: 'on' };
    },
    error: 'meshtrace.yaml: istio.own_sampling: must be one of "off", "align"',
  },
];

test('there are at least 15 bad-input cases', (t) => {
  t.true(cases.length >= 15, `${cases.length} cases`);
});

for (const c of cases) {
  test(`bad input: ${c.name}`, (t) => {
    const doc = base();
    c.edit(doc);
    const err = t.throws(() => parseConfig(doc), { instanceOf: ConfigError }, c.name);
    t.deepEqual((err as ConfigError).problems, [c.error], c.name);
    t.false(err?.message.includes('\n'), `${c.name}: one line`);
  });
}

test('the base document of the table is valid (so each case fails for its own edit)', (t) => {
  const cfg = parseConfig(base());
  t.is(cfg.services.length, 2);
  t.deepEqual(cfg.propagation.outbound, ['w3c'], 'defaults filled in');
  t.deepEqual(cfg.services[0]?.labels, { app: 'web' }, 'selector defaults to app=<name>');
});

test('several problems are reported one per line', (t) => {
  const doc = base();
  doc.version = 3;
  doc.wasm = { phase: 'X' };
  const err = t.throws(() => parseConfig(doc), { instanceOf: ConfigError });
  t.deepEqual((err as ConfigError).problems.sort(), [
    'meshtrace.yaml: version: must be 1',
    'meshtrace.yaml: wasm.phase: must be one of "UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"',
  ]);
});

test('YAML syntax errors name line and column', (t) => {
  const err = t.throws(() => parseConfigText('version: 1\nservices:\n  - name: a\n   address: x\n'), {
    instanceOf: ConfigError,
  });
  t.regex(err?.message ?? '', /^meshtrace\.yaml:\d+:\d+: /);
});

test('a duplicate key is an error, not a silent overwrite', (t) => {
  const err = t.throws(() => parseConfigText('version: 1\nversion: 1\n'), { instanceOf: ConfigError });
  t.regex(err?.message ?? '', /^meshtrace\.yaml:2:1: .*[Mm]ap keys must be unique/);
});

test('a missing file is named', (t) => {
  const err = t.throws(() => loadConfig('/nonexistent/meshtrace.yaml'), { instanceOf: ConfigError });
  t.is(err?.message, 'meshtrace.yaml: cannot read /nonexistent/meshtrace.yaml: ENOENT');
});

test('the example meshtrace.yaml is valid', (t) => {
  const cfg = loadConfig('examples/meshtrace.yaml');
  t.is(cfg.services.length, 4);
  t.is(cfg.sampling.probability, 0.25);
});
