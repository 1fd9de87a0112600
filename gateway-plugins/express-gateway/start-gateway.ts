// Starts express-gateway from a config directory (gateway.config.yml, system.config.yml,
// models/) in this process — one gateway per process, express-gateway's config is a module
// singleton. Prints `MESHTRACE_GATEWAY_READY {"port":…}` when listening; a refused start
// (e.g. bad meshtrace settings) prints the reason and exits 1. SIGTERM flushes spans first.
//
//   node --import=tsx gateway-plugins/express-gateway/start-gateway.ts <config-dir>
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';
import { resolve } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: start-gateway.ts <config-dir>');
  process.exit(2);
}
process.env['EG_DISABLE_CONFIG_WATCH'] ??= '1';
const require = createRequire(import.meta.url);
// The plugin as express-gateway loads it (CommonJS require), so this is the same instance.
const plugin = require('./index.ts') as typeof import('./index.ts');
const gateway = require('express-gateway') as () => { load(d: string): { run(): Promise<[{ app: Server }, unknown]> } };

process.on('SIGTERM', () => {
  const t = plugin.activeTracer();
  const done = () => process.exit(0);
  if (t === null) done();
  else {
    t.shutdown().then(done, done);
    setTimeout(done, 3000).unref();
  }
});

gateway()
  .load(resolve(dir))
  .run()
  .then(([gw]) => {
    const port = (gw.app.address() as AddressInfo).port;
    console.log(`MESHTRACE_GATEWAY_READY ${JSON.stringify({ port })}`);
  })
  .catch((err: Error) => {
    console.error(`express-gateway refused to start: ${err.message}`);
    process.exit(1);
  });
