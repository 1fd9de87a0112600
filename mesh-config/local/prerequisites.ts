// What `meshtrace up` needs before it starts anything; each miss is named with its fix.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyPath, repoRoot } from '../../core/envoy-binary.ts';

export const WASM = join(repoRoot, 'wasm-filters', 'build', 'meshtrace-filter.wasm');
export const SERVICES_DIR = join(repoRoot, 'examples', 'services');

/** Checks everything `up` needs before starting anything; each miss names its fix. */
export function prerequisites(): { missing: string[]; goBin: string | null; python: string | null } {
  const missing: string[] = [];
  try {
    envoyPath();
  } catch (err) {
    missing.push((err as Error).message);
  }
  if (!existsSync(WASM)) missing.push(`the meshtrace filter is not built (${WASM}): run \`npm run build:wasm\``);
  const which = (cmd: string) => {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const goBin = which('go');
  const python = which('python3');
  if (!goBin) missing.push('go is not installed (the pricing sample service is written in Go)');
  if (!python) missing.push('python3 is not installed (the inventory sample service is written in Python)');
  if (!which('redis-server'))
    missing.push('redis-server is not installed: run `npm run setup` (installs it from Debian)');
  return { missing, goBin, python };
}

/** Builds the Go sample once per source version into .meshtrace/bin (go's own cache helps too). */
export function buildPricing(goBin: string, log: (l: string) => void): string {
  return buildGoService(goBin, join(SERVICES_DIR, 'pricing'), 'pricing', log);
}

/**
 * Builds the Go program in `src` into .meshtrace/bin/<name>-<source hash>, once per source
 * version (standard library only: nothing is downloaded).
 */
export function buildGoService(goBin: string, src: string, name: string, log: (l: string) => void): string {
  const hash = createHash('sha256');
  for (const f of readdirSync(src).sort()) hash.update(f).update(readFileSync(join(src, f)));
  const binDir = join(repoRoot, '.meshtrace', 'bin');
  const bin = join(binDir, `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(bin)) return bin;
  log(`  building the Go service ${name} (first run compiles the standard library; later runs are cached)…`);
  mkdirSync(binDir, { recursive: true });
  const r = spawnSync(goBin, ['build', '-o', bin, '.'], {
    cwd: src,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  if (r.status !== 0) throw new Error(`go build of ${src} failed:\n${r.stderr}`);
  return bin;
}
