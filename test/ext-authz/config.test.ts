// Config validation: each bad input is a named case; the error must name the field.
import { writeFileSync } from 'node:fs';
import test from 'ava';
import { ConfigError, loadConfigFile, normaliseConfig } from '../../ext-authz/config.ts';
import { writeConfig } from './support/service.ts';

test('defaults: an empty config is valid and safe', (t) => {
  const c = normaliseConfig({});
  t.is(c.mode, 'span');
  t.is(c.listen.host, '127.0.0.1');
  t.deepEqual(c.propagation.inject, ['w3c']);
  t.true(c.enrich.redactQueryParams.includes('token'));
  t.deepEqual(c.enrich.headers, []);
  t.is(c.otlp.endpoint, undefined);
  t.true(c.sampling.error.enabled, 'error-biased keep is on by default');
  t.is(c.sampling.probability, 1);
});

const bad: { name: string; config: unknown; field: RegExp }[] = [
  { name: 'not a mapping', config: ['x'], field: /must be a mapping/ },
  { name: 'unknown top-level field', config: { lissten: {} }, field: /lissten: unknown field/ },
  {
    name: 'port out of range',
    config: { listen: { port: 70000 } },
    field: /listen\.port: must be an integer in \[0, 65535\]/,
  },
  { name: 'mode misspelt', config: { mode: 'spans' }, field: /mode: must be one of span, metadata/ },
  {
    name: 'Authorization in the allow-list',
    config: { enrich: { headers: ['x-a', 'Authorization'] } },
    field: /enrich\.headers\[1\]: "Authorization" carries credentials/,
  },
  { name: 'Cookie in the allow-list', config: { enrich: { headers: ['cookie'] } }, field: /enrich\.headers\[0\]/ },
  {
    name: 'invalid header name',
    config: { enrich: { headers: ['bad header'] } },
    field: /enrich\.headers\[0\]: "bad header" is not a valid header name/,
  },
  {
    name: 'OTLP endpoint not a URL',
    config: { otlp: { endpoint: 'collector:4318' } },
    field: /otlp\.endpoint: must be an http\(s\) URL/,
  },
  {
    name: 'batch larger than queue',
    config: { otlp: { maxQueueSize: 10, maxExportBatchSize: 20 } },
    field: /otlp\.maxExportBatchSize/,
  },
  {
    name: 'unknown propagation format',
    config: { propagation: { inject: ['w3c', 'xray'] } },
    field: /propagation\.inject\[1\]: unknown format "xray"/,
  },
  {
    name: 'sampling probability above 1 (shared sampling parser)',
    config: { sampling: { probability: 1.5 } },
    field: /sampling\.probability: /,
  },
  {
    name: 'unknown sampling field',
    config: { sampling: { ratio: 0.5 } },
    field: /sampling\.ratio: unknown field/,
  },
  {
    name: 'JWT without a key source',
    config: { enrich: { jwt: { issuer: 'x' } } },
    field: /enrich\.jwt: needs exactly one key source/,
  },
  {
    name: 'JWT with two key sources',
    config: { enrich: { jwt: { jwksFile: 'a', secretEnv: 'B' } } },
    field: /enrich\.jwt: needs exactly one key source .*got 2/,
  },
  {
    name: 'claim mapped to a non-string',
    config: { enrich: { jwt: { secretEnv: 'S', claims: { sub: 3 } } } },
    field: /enrich\.jwt\.claims\.sub: must be a non-empty string/,
  },
  {
    name: 'negative JWT cache size',
    config: { enrich: { jwt: { secretEnv: 'S', cacheSize: -1 } } },
    field: /enrich\.jwt\.cacheSize: must be an integer in \[0, 100000\], got number -1/,
  },
  {
    name: 'deny rule without pathPrefix',
    config: { authz: { deny: [{ name: 'x' }] } },
    field: /authz\.deny\[0\]\.pathPrefix: is required/,
  },
  {
    name: 'deny rule with a 2xx status',
    config: { authz: { deny: [{ pathPrefix: '/a', status: 200 }] } },
    field: /authz\.deny\[0\]\.status: must be an integer in \[400, 599\]/,
  },
  {
    name: 'deny rule path without slash',
    config: { authz: { deny: [{ pathPrefix: 'admin' }] } },
    field: /authz\.deny\[0\]\.pathPrefix: must start with "\/"/,
  },
];

for (const c of bad) {
  test(`rejects: ${c.name}`, (t) => {
    const err = t.throws(() => normaliseConfig(c.config, 'my.yaml'), { instanceOf: ConfigError }, c.name);
    t.regex(err?.message ?? '', /^my\.yaml: /, c.name);
    t.regex(err?.message ?? '', c.field, c.name);
  });
}

test('loadConfigFile names the file and the YAML problem', (t) => {
  const file = writeConfig({});
  writeFileSync(file, 'listen: [unclosed\n');
  const err = t.throws(() => loadConfigFile(file), { instanceOf: ConfigError });
  t.true(err?.message.startsWith(`${file}: (syntax)`), err?.message);
  t.throws(() => loadConfigFile('/nonexistent/ext.yaml'), {
    message: /\/nonexistent\/ext\.yaml: \(file\): cannot read/,
  });
});
