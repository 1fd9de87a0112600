// The built filter's plugin configuration through the TypeScript Proxy-Wasm host: valid configs
// are accepted and described in the log; bad ones are refused (on_configure → false, which makes
// Envoy reject the filter) with an error log naming the field.
import test from 'ava';
import { loadFilter } from '../support/proxy-wasm-host/filter.ts';

test('no configuration means every default', async (t) => {
  const { host, configured } = await loadFilter('');
  t.true(configured, host.logMessages().join('\n'));
  t.true(
    host
      .logMessages('info')
      .includes(
        'meshtrace: configured service_name=meshtrace direction=inbound inbound=[w3c,b3,b3multi,jaeger] outbound=[w3c] traceresponse=true',
      ),
    host.logMessages().join('\n'),
  );
});

test('a full valid configuration is accepted as given', async (t) => {
  const { host, configured } = await loadFilter({
    service_name: 'checkout',
    direction: 'outbound',
    propagation: { inbound: ['b3', 'w3c'], outbound: ['w3c', 'b3multi', 'jaeger'] },
    traceresponse: false,
  });
  t.true(configured, host.logMessages().join('\n'));
  t.true(
    host
      .logMessages('info')
      .includes(
        'meshtrace: configured service_name=checkout direction=outbound inbound=[b3,w3c] outbound=[w3c,b3multi,jaeger] traceresponse=false',
      ),
  );
});

const refused: { name: string; config: string; error: RegExp }[] = [
  { name: 'not JSON', config: '{"service_name": ', error: /^meshtrace: config: not valid JSON/ },
  { name: 'root is not an object', config: '[]', error: /^meshtrace: config: \(root\): expected an object, got/ },
  { name: 'unknown root key', config: '{"sampling_rat": 1}', error: /^meshtrace: config: sampling_rat: unknown key$/ },
  {
    name: 'unknown outbound format',
    config: '{"propagation": {"outbound": ["w3c", "b4"]}}',
    error: /^meshtrace: config: propagation\.outbound\[1\]: unknown format "b4"/,
  },
  {
    name: 'format listed twice',
    config: '{"propagation": {"inbound": ["b3", "b3"]}}',
    error: /^meshtrace: config: propagation\.inbound\[1\]: format "b3" listed twice$/,
  },
  {
    name: 'unknown propagation key',
    config: '{"propagation": {"in": ["w3c"]}}',
    error: /^meshtrace: config: propagation\.in: unknown key$/,
  },
  {
    name: 'formats not an array',
    config: '{"propagation": {"outbound": "w3c"}}',
    error: /^meshtrace: config: propagation\.outbound: expected an array of format names/,
  },
  {
    name: 'bad direction',
    config: '{"direction": "sideways"}',
    error: /^meshtrace: config: direction: must be "inbound" or "outbound", got "sideways"$/,
  },
  {
    name: 'traceresponse not a boolean',
    config: '{"traceresponse": "yes"}',
    error: /^meshtrace: config: traceresponse: expected a boolean/,
  },
  {
    name: 'empty service name',
    config: '{"service_name": ""}',
    error: /^meshtrace: config: service_name: must be 1-256 characters$/,
  },
  {
    name: 'service name too long',
    config: JSON.stringify({ service_name: 'x'.repeat(257) }),
    error: /^meshtrace: config: service_name: must be 1-256 characters$/,
  },
];

for (const c of refused) {
  test(`refused: ${c.name}`, async (t) => {
    const { host, configured } = await loadFilter(c.config);
    t.false(configured, c.name);
    const errors = host.logs('error').map((l) => l.message);
    t.is(errors.length, 1, `${c.name}: ${errors.join(' | ')}`);
    t.regex(errors[0] ?? '', c.error, c.name);
    t.throws(
      () => host.newHttpStream(),
      { message: /refused its configuration/ },
      'no stream reaches a refused filter',
    );
  });
}
