// The UI is plain TypeScript (ui/app.ts and its modules) bundled in memory by esbuild — the
// copy tsx already brings — once per server, on first request. Nothing is fetched from a
// network: no CDN, no fonts, so the UI works on an offline host.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const UI_DIR = dirname(fileURLToPath(import.meta.url));

export interface UiAssets {
  html: string;
  css: string;
  js: string;
}

export async function buildUi(): Promise<UiAssets> {
  const r = await build({
    entryPoints: [join(UI_DIR, 'app.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
  });
  const js = r.outputFiles[0]?.text;
  if (js === undefined) throw new Error('UI bundle produced no output');
  return {
    html: readFileSync(join(UI_DIR, 'index.html'), 'utf8'),
    css: readFileSync(join(UI_DIR, 'style.css'), 'utf8'),
    js,
  };
}
