// Every generated Istio resource validates against the CRD schemas published in
// @kubernetes-models/istio; and the validator is shown to reject broken resources, so a pass
// means something.
import test from 'ava';
import { type K8sResource, validateIstioResource } from '../../mesh-config/index.ts';
import { FIXTURES, istioArtefacts } from './generate.ts';

for (const fixture of Object.keys(FIXTURES) as (keyof typeof FIXTURES)[]) {
  for (const [name, res] of istioArtefacts(fixture)) {
    test(`Istio schema accepts ${name}`, (t) => {
      t.notThrows(() => validateIstioResource(res));
    });
  }
}

test('the generated set has every kind the task names', (t) => {
  const kinds = new Set<string>();
  for (const fixture of Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])
    for (const r of istioArtefacts(fixture).values()) kinds.add(r.kind);
  t.deepEqual([...kinds].sort(), [
    'DestinationRule',
    'EnvoyFilter',
    'IstioOperator',
    'ServiceEntry',
    'Telemetry',
    'WasmPlugin',
  ]);
});

function mutated(name: string, edit: (r: K8sResource) => void): K8sResource {
  const r = structuredClone(
    [...istioArtefacts('example').values()].find(
      (x) => x.metadata.name === name && x.kind !== 'ServiceEntry',
    ) as K8sResource,
  );
  edit(r);
  return r;
}

const broken: { name: string; res: () => K8sResource; error: RegExp }[] = [
  {
    name: 'WasmPlugin with an unknown phase',
    res: () =>
      mutated('meshtrace-storefront-inbound', (r) => {
        (r.spec as Record<string, unknown>).phase = 'TRACING';
      }),
    error: /WasmPlugin\/meshtrace-storefront-inbound: .*phase must be equal to one of the allowed values/,
  },
  {
    name: 'WasmPlugin with a string priority',
    res: () =>
      mutated('meshtrace-storefront-inbound', (r) => {
        (r.spec as Record<string, unknown>).priority = 'high';
      }),
    error: /priority must be integer/,
  },
  {
    name: 'EnvoyFilter patch with an unknown operation',
    res: () =>
      mutated('meshtrace-ext-proc', (r) => {
        (
          (r.spec as { configPatches: { patch: { operation: string } }[] }).configPatches[1] as {
            patch: { operation: string };
          }
        ).patch.operation = 'PREPEND';
      }),
    error: /operation must be equal to one of the allowed values/,
  },
  {
    name: 'Telemetry with a string sampling percentage',
    res: () =>
      mutated('meshtrace-sampling', (r) => {
        (
          (r.spec as { tracing: Record<string, unknown>[] }).tracing[0] as Record<string, unknown>
        ).randomSamplingPercentage = '10%';
      }),
    error: /randomSamplingPercentage must be/,
  },
  {
    name: 'DestinationRule with an unknown TLS mode',
    res: () =>
      mutated('meshtrace-collector', (r) => {
        (r.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode = 'PLAIN';
      }),
    error: /mode must be equal to one of the allowed values/,
  },
  {
    name: 'extensionProviders entry with a string port',
    res: () =>
      mutated('meshtrace', (r) => {
        const p = (r.spec as { meshConfig: { extensionProviders: { opentelemetry: { port: unknown } }[] } }).meshConfig
          .extensionProviders[0];
        if (p) p.opentelemetry.port = '4318';
      }),
    error: /meshConfig\.extensionProviders\/0\/opentelemetry\/port must be integer/,
  },
];

for (const b of broken) {
  test(`Istio schema rejects: ${b.name}`, (t) => {
    const err = t.throws(() => validateIstioResource(b.res()), undefined, b.name);
    t.regex(err?.message ?? '', b.error, b.name);
  });
}
