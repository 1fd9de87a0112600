// Shared pieces of the filter e2e tests: the built filter's path (a missing file fails the
// test with the build command named), a raw HTTP/1.1 client that can send duplicate headers,
// and W3C traceparent parsing for assertions.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { envoyPath, repoRoot } from '../../core/envoy-binary.ts';
import { proxyBootstrap, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startProcess } from '../support/process.ts';

export const FILTER_WASM = join(repoRoot, 'wasm-filters', 'build', 'meshtrace-filter.wasm');

export function builtFilter(): string {
  if (!existsSync(FILTER_WASM)) throw new Error(`${FILTER_WASM} is missing: run \`npm run build:wasm\``);
  return FILTER_WASM;
}

/**
 * Runs Envoy with the filter configured by `configuration` and resolves when Envoy exits, or
 * with code 'running' after 15 s. Used to prove that a bad configuration is refused at load:
 * startEnvoy() would wait for readiness instead, which a refused filter never reaches.
 */
export async function envoyExit(t: ExecutionContext, configuration: unknown) {
  const listenPort = await freePort();
  const adminPort = await freePort();
  const bootstrap = {
    ...proxyBootstrap({ listenPort, upstreamPorts: [1], httpFilters: [wasmHttpFilter(builtFilter(), configuration)] }),
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'meshtrace-envoy-')), 'bootstrap.json');
  writeFileSync(file, JSON.stringify(bootstrap));
  const proc = startProcess(t, envoyPath(), [
    '-c',
    file,
    '--disable-hot-restart',
    '--concurrency',
    '1',
    '--log-level',
    'warn',
  ]);
  const timeout = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15000).unref());
  return { code: await Promise.race([proc.exited, timeout]), logs: proc.output() };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET with headers given as pairs, so a name may repeat (sent as separate header lines). */
export function send(port: number, path: string, pairs: [string, string][] = []): Promise<Reply> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const prev = headers[name];
    if (prev === undefined) headers[name] = value;
    else headers[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Traceparent {
  traceId: string;
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a version-00 traceparent; throws (failing the test) on anything else. */
export function traceparent(value: unknown): Traceparent {
  const m = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  if (!m?.[1] || !m[2] || !m[3]) throw new Error(`not a version-00 traceparent: ${JSON.stringify(value)}`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}
