// express-gateway loads a plugin with require(). Under tsx, require() compiles every TypeScript
// module to CommonJS, where each call to an imported function goes through esbuild's export
// getters (one per module boundary, two through an index re-export): in express-gateway they
// were a fifth of the tracing stage's time, and the plugin cost 12–20 µs more per request than
// the same code loaded as ES modules (gateway-plugins/README.md, "Cost per request").
//
// Importing the plugin as an ES module first and putting that instance into require()'s cache
// under the plugin's file makes express-gateway use it: `plugins.meshtrace.package` must name
// this folder's index.ts (symlinks are fine, require() keys its cache by real path).
import { createRequire, Module } from 'node:module';

export type MeshtracePlugin = typeof import('./index.ts');

/** Imports the plugin as an ES module and makes require() of its index.ts return that instance. */
export async function loadPluginAsEsm(): Promise<MeshtracePlugin> {
  const plugin = await import('./index.ts');
  const require = createRequire(import.meta.url);
  const path = require.resolve('./index.ts');
  const cached = new Module(path);
  cached.filename = path;
  cached.loaded = true;
  cached.exports = plugin;
  require.cache[path] = cached;
  return plugin;
}
