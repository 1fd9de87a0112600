// Runs `meshtrace ext-proc|ext-authz --config …` as a real child process for e2e tests (so a test
// can kill it), and JWT keys/tokens for the enrichment assertions.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { stringify } from 'yaml';
import { repoRoot } from '../../../core/envoy-binary.ts';
import { type OwnedProcess, startProcess, type Teardown, waitFor } from '../../support/process.ts';

export interface ServiceProcess {
  port: number;
  process: OwnedProcess;
  output(): string;
}

export function writeConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-ext-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export async function startServiceProcess(
  t: Teardown,
  command: 'ext-proc' | 'ext-authz',
  configFile: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServiceProcess> {
  const proc = startProcess(
    t,
    process.execPath,
    ['--import=tsx', join(repoRoot, 'cli/main.ts'), command, '--config', configFile],
    {
      cwd: repoRoot,
      env,
    },
  );
  const port = await waitFor(
    `meshtrace ${command} to print its ready line`,
    () => {
      if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.output()}`);
      const m = /"msg":"ready".*?"port":(\d+)/.exec(proc.output());
      return m ? Number(m[1]) : undefined;
    },
    // Generous: module loading alone takes ~9 s wall on the shared 2-core machine under load.
    45000,
  );
  return { port, process: proc, output: proc.output };
}

export interface Keys {
  jwksFile: string;
  /** Signed by the key in jwksFile. */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** Signed by an unrelated key with the same kid: must not verify. */
  forge(claims: Record<string, unknown>): Promise<string>;
}

export async function makeKeys(): Promise<Keys> {
  const good = await generateKeyPair('ES256');
  const bad = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(good.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-jwks-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const signWith = (key: CryptoKey) => (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://issuer.test')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  return { jwksFile, sign: signWith(good.privateKey), forge: signWith(bad.privateKey) };
}

/** An HCM access_log entry writing one JSON line per request to `path` (read with readAccessLog). */
export function jsonAccessLog(path: string, fields: Record<string, string>) {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      log_format: { json_format: fields },
    },
  };
}

export function readAccessLog(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'meshtrace-ext-')), name);
}
