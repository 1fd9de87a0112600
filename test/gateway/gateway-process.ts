// Runs a real express-gateway in a child process (one gateway per process: its config is a
// module singleton) from a generated config directory: gateway.config.yml, system.config.yml
// and the models shipped in the express-gateway package.
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../support/ports.ts';
import { type OwnedProcess, startProcess, type Teardown, waitFor } from '../support/process.ts';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '../..');
export const PLUGIN_PATH = join(ROOT, 'gateway-plugins/express-gateway/index.ts');
const LAUNCHER = join(ROOT, 'gateway-plugins/express-gateway/start-gateway.ts');

export interface GatewayConfigInput {
  /** plugins.meshtrace settings (package is filled in); null = plugin not loaded. */
  meshtrace: Record<string, unknown> | null;
  /** Pipelines by name: the paths of their apiEndpoint and their policies (express-gateway list form). */
  pipelines: Record<string, { paths: string[]; policies: unknown[] }>;
  serviceEndpoints?: Record<string, unknown>;
  /** Also start express-gateway's admin API (users, apps, credentials) on a free port. */
  admin?: boolean;
  /** Other plugins by name: the file express-gateway loads (`package`). */
  plugins?: Record<string, string>;
}

/** Writes a config directory and returns it with the chosen HTTP port. */
export async function writeGatewayConfig(
  input: GatewayConfigInput,
): Promise<{ dir: string; port: number; adminPort: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-eg-'));
  const port = await freePort();
  const adminPort = input.admin ? await freePort() : null;
  const entries = Object.entries(input.pipelines);
  const policyNames = [...new Set(entries.flatMap(([, p]) => p.policies.map((x) => Object.keys(x as object)[0]!)))];
  const gatewayConfig = {
    http: { port, hostname: '127.0.0.1' },
    ...(adminPort === null ? {} : { admin: { port: adminPort, host: '127.0.0.1' } }),
    apiEndpoints: Object.fromEntries(entries.map(([name, p]) => [name, { host: '*', paths: p.paths }])),
    serviceEndpoints: input.serviceEndpoints ?? {},
    policies: policyNames,
    pipelines: Object.fromEntries(entries.map(([name, p]) => [name, { apiEndpoints: [name], policies: p.policies }])),
  };
  const systemConfig: Record<string, unknown> = {
    db: { redis: { emulate: true, namespace: 'EG' } },
    crypto: { cipherKey: 'meshtrace-test-cipher-key', algorithm: 'aes256', saltRounds: 4 },
    session: { secret: 'meshtrace-test-session', resave: false, saveUninitialized: false },
    accessTokens: { timeToExpiry: 7200000 },
    refreshTokens: { timeToExpiry: 7200000 },
    authorizationCodes: { timeToExpiry: 300000 },
  };
  const plugins: Record<string, unknown> = {};
  if (input.meshtrace !== null) plugins['meshtrace'] = { package: PLUGIN_PATH, ...input.meshtrace };
  for (const [name, file] of Object.entries(input.plugins ?? {})) plugins[name] = { package: file };
  if (Object.keys(plugins).length > 0) systemConfig['plugins'] = plugins;
  writeFileSync(join(dir, 'gateway.config.yml'), stringify(gatewayConfig));
  writeFileSync(join(dir, 'system.config.yml'), stringify(systemConfig));
  const models = join(dirname(require.resolve('express-gateway/package.json')), 'lib/config/models');
  mkdirSync(join(dir, 'models'));
  cpSync(models, join(dir, 'models'), { recursive: true });
  return { dir, port, adminPort };
}

export interface RunningGateway {
  url: string;
  /** The admin API, when requested. */
  adminUrl: string | null;
  process: OwnedProcess;
  logs(): string;
}

export interface GatewayLaunch {
  /**
   * How the plugin reaches express-gateway: `esm` (default) — imported as an ES module by the
   * launcher (load-as-esm.ts); `require` — express-gateway's own require(), CommonJS under tsx.
   */
  pluginLoad?: 'esm' | 'require';
}

export async function startGateway(
  t: Teardown | undefined,
  input: GatewayConfigInput,
  launch: GatewayLaunch = {},
): Promise<RunningGateway> {
  const { dir, port, adminPort } = await writeGatewayConfig(input);
  const proc = startProcess(t, process.execPath, ['--import=tsx', LAUNCHER, dir], {
    cwd: ROOT,
    env: {
      LOG_LEVEL: 'warn',
      EG_DISABLE_CONFIG_WATCH: '1',
      ...(launch.pluginLoad === 'require' ? { MESHTRACE_PLUGIN_LOAD: 'require' } : {}),
    },
  });
  let exit: number | null | undefined;
  void proc.exited.then((c) => {
    exit = c;
  });
  try {
    await waitFor(
      'express-gateway to listen',
      () => {
        if (exit !== undefined) throw new Error(`gateway exited with code ${exit}`);
        return proc.output().includes('MESHTRACE_GATEWAY_READY');
      },
      30000,
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- gateway output ---\n${proc.output()}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl: adminPort === null ? null : `http://127.0.0.1:${adminPort}`,
    process: proc,
    logs: proc.output,
  };
}

/** Starts a gateway expected to refuse its config; resolves with its exit code and output. */
export async function startGatewayExpectingFailure(
  t: Teardown,
  input: GatewayConfigInput,
): Promise<{ code: number | null; output: string }> {
  const { dir } = await writeGatewayConfig(input);
  const proc = startProcess(t, process.execPath, ['--import=tsx', LAUNCHER, dir], {
    cwd: ROOT,
    env: { LOG_LEVEL: 'warn', EG_DISABLE_CONFIG_WATCH: '1' },
  });
  const timer = setTimeout(() => void proc.stop(), 30000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}
