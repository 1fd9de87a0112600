// The BUILT meshtrace filter loaded into the TypeScript host, for wasm unit tests. A missing
// .wasm is an error naming the build command — the tests fail, they never skip.
import { join } from 'node:path';
import { repoRoot } from '../../../core/envoy-binary.ts';
import { type HostOptions, ProxyWasmHost } from './host.ts';

export const FILTER_WASM = join(repoRoot, 'wasm-filters', 'build', 'meshtrace-filter.wasm');

/** Loads the filter with `configuration` and starts the plugin; returns the host and on_configure's verdict. */
export async function loadFilter(
  configuration: string | object = {},
  options: Omit<HostOptions, 'configuration'> = {},
): Promise<{ host: ProxyWasmHost; configured: boolean }> {
  const host = await ProxyWasmHost.load(FILTER_WASM, { ...options, configuration });
  return { host, configured: host.startPlugin() };
}

/** Request headers as Envoy's HTTP/1 codec presents them: pseudo-headers first. */
export function requestHeaders(extra: [string, string][] | Record<string, string> = {}): [string, string][] {
  const rest = Array.isArray(extra) ? extra : Object.entries(extra);
  return [
    [':authority', 'svc.local'],
    [':path', '/orders/42'],
    [':method', 'GET'],
    [':scheme', 'http'],
    ['x-request-id', 'r-1'],
    ...rest,
  ];
}
