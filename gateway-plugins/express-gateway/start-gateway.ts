// Starts express-gateway from a config directory (gateway.config.yml, system.config.yml,
// models/) in this process — one gateway per process, express-gateway's config is a module
// singleton. Prints `MESHTRACE_GATEWAY_READY {"port":…,"pluginLoad":…}` when listening; a refused start
// (e.g. bad meshtrace settings) prints the reason and exits 1. SIGTERM flushes spans first.
// The plugin is loaded as an ES module (load-as-esm.ts); MESHTRACE_PLUGIN_LOAD=require leaves
// it to express-gateway's require() instead (CommonJS under tsx, slower; bench:gateway row).
//
//   node --import=tsx gateway-plugins/express-gateway/start-gateway.ts <config-dir>
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';
import { resolve } from 'node:path';
import { loadPluginAsEsm, type MeshtracePlugin } from './load-as-esm.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: start-gateway.ts <config-dir>');
  process.exit(2);
}
process.env['EG_DISABLE_CONFIG_WATCH'] ??= '1';
const require = createRequire(import.meta.url);
// The instance express-gateway will use, so activeTracer() is the one that traced.
const pluginLoad = process.env['MESHTRACE_PLUGIN_LOAD'] === 'require' ? 'require' : 'esm';
const plugin = pluginLoad === 'require' ? (require('./index.ts') as MeshtracePlugin) : await loadPluginAsEsm();
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
    console.log(`MESHTRACE_GATEWAY_READY ${JSON.stringify({ port, pluginLoad })}`);
  })
  .catch((err: Error) => {
    console.error(`express-gateway refused to start: ${err.message}`);
    process.exit(1);
  });
