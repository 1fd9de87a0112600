// Every generated Envoy bootstrap passes the real `envoy --mode validate` (Envoy 1.40 parses
// each typed config, resolves each extension and loads the built filter). Fails, never skips,
// when Envoy or the built .wasm is missing.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import test from 'ava';
import { gatewayBootstrap, parseConfig, validateBootstrap } from '../../mesh-config/index.ts';
import { bootstrapArtefacts } from './generate.ts';

const WASM = resolve('wasm-filters/build/meshtrace-filter.wasm');

const withWasm = existsSync(WASM) ? bootstrapArtefacts('example', { wasmFile: WASM }) : new Map();
const withoutWasm = bootstrapArtefacts('example', {});

test.serial('the built filter exists', (t) => {
  t.true(existsSync(WASM), `${WASM} missing — run \`npm run build:wasm\``);
  t.true(withWasm.size >= 5, 'sidecars, gateway and lb');
});

for (const [name, bootstrap] of withWasm) {
  test.serial(`envoy --mode validate accepts ${name} (with the meshtrace filter)`, async (t) => {
    const res = await validateBootstrap(bootstrap);
    t.true(res.ok, res.error ?? res.output);
  });
}

for (const [name, bootstrap] of withoutWasm) {
  test.serial(`envoy --mode validate accepts ${name} (without the filter)`, async (t) => {
    const res = await validateBootstrap(bootstrap);
    t.true(res.ok, res.error ?? res.output);
  });
}

test.serial('the ext_authz gateway validates too', async (t) => {
  const cfg = parseConfig({
    version: 1,
    ext_proc: { mode: 'ext_authz', address: 'authz.local:9000' },
    services: [{ name: 'web', address: '127.0.0.1:7001' }],
    gateway: { routes: [{ prefix: '/', service: 'web' }] },
  });
  const res = await validateBootstrap(gatewayBootstrap(cfg, {}));
  t.true(res.ok, res.error ?? res.output);
});

test.serial('validation can fail: Envoy rejects a retry policy with a negative retry count', async (t) => {
  const bootstrap = bootstrapArtefacts('example', {}).get('example/bootstrap-lb');
  t.truthy(bootstrap);
  const broken = JSON.parse(JSON.stringify(bootstrap).replace('"num_retries":2', '"num_retries":-1'));
  t.not(JSON.stringify(broken), JSON.stringify(bootstrap), 'the edit applied');
  const res = await validateBootstrap(broken);
  t.false(res.ok);
  t.regex(res.error ?? '', /num_retries|invalid/i);
});
