// Runs the real `envoy --mode validate` on a bootstrap: Envoy itself parses every typed
// config, resolves every extension and reads referenced files (the .wasm included).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyPath } from '../../core/envoy-binary.ts';
import type { EnvoyBootstrap } from './bootstrap.ts';

export interface ValidationResult {
  ok: boolean;
  /** Envoy's critical/error lines (or its last output line) when not ok. */
  error?: string;
  output: string;
}

export async function validateBootstrap(bootstrap: EnvoyBootstrap): Promise<ValidationResult> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-validate-'));
  const file = join(dir, 'bootstrap.json');
  // validate mode needs an admin block only when one is present; add a harmless one.
  const withAdmin = bootstrap.admin
    ? bootstrap
    : { ...bootstrap, admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } };
  writeFileSync(file, JSON.stringify(withAdmin));
  try {
    const output = await new Promise<string>((resolve) => {
      execFile(
        envoyPath(),
        ['--mode', 'validate', '-c', file, '--disable-hot-restart', '--log-level', 'warn'],
        { timeout: 60000, maxBuffer: 4 * 1024 * 1024 },
        (err, stdout, stderr) =>
          resolve(`${stdout}${stderr}${err && !stdout.includes(' OK') ? `\n[exit] ${err.message}` : ''}`),
      );
    });
    const ok = /configuration '.*' OK/.test(output);
    const bad = output.split('\n').filter((l) => /\]\[(critical|error)\]/.test(l));
    const deprecated = output.split('\n').filter((l) => l.includes('Deprecated field'));
    // Deprecated fields are removed in later Envoys: treat them as failures here.
    if (ok && deprecated.length === 0) return { ok, output };
    return {
      ok: false,
      error: [...new Set([...bad, ...deprecated])].join('\n') || output.trim().split('\n').pop(),
      output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
