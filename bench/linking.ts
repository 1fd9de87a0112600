// `npm run bench:linking` — zero-code linking through real Envoy sidecars (issue 9). The legacy
// topology (examples/legacy: Python, Go, Node services that forward no trace headers; each with
// its own Envoy running the built filter on two worker threads) serves GET /order/<n> at
// concurrency 1, 4, 8 and 32; the sidecars export to the real collector. Per level, against the
// services' own ground truth (x-request-ids, never trace headers):
//
//   edges correct / wrong / unlinked, wrong among linked, requests whose whole trace is exact
//
// for four ways of reading the same spans:
//   none            what a mesh gives today: every context-less call starts its own trace
//   greedy (FCFS)   each such call given to the most recent request in flight (derived from none)
//   online          as the sidecars linked them at request time
//   online+offline  then the collector's offline pass (linkWindow) over what stayed provisional
//
// Targets (printed, never asserted): 100 % at concurrency 1; ≥ 95 % edge accuracy at 8; wrong ≤ 2 %
// of linked at 8. A warm-up at concurrency 1 lets the sidecars learn the call pattern first, as a
// service running before a traffic peak would have.
//
// Options: --requests N (300 per level)  --warmup N (150)  --levels 1,4,8,32  --threshold 0.9 (the sidecars')
//          --offline-threshold 0.8 (the collector's default)
//          --record FILE (write each level's spans, ground truth and roots as JSON, for offline study)
//          --envoy-workers N (2, Istio's default sidecar concurrency)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCollector } from '../analysis/collector/collector.ts';
import { type LinkingScore, linkWindow, scoreLinking } from '../analysis/linking/index.ts';
import type { Span } from '../analysis/model.ts';
import { startLegacyMesh, truthOf } from '../test/support/legacy-mesh.ts';
import { greedy, unlinked } from './lib/linking-views.ts';
import { table } from './lib/stats.ts';

const EXPORT_SETTLE_MS = 2500; // the filter flushes its span queue every second

const pct = (n: number, d: number): string => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

async function drive(
  order: (n: number, id: string) => Promise<number>,
  concurrency: number,
  requests: number,
  tag: string,
): Promise<{ roots: string[]; failed: number; seconds: number }> {
  const roots: string[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= requests) return;
        const id = `${tag}-${i}`;
        roots.push(id);
        if ((await order(1 + ((i * 7919) % 997), id)) !== 200) failed++;
      }
    }),
  );
  return { roots, failed, seconds: (performance.now() - t0) / 1000 };
}

function row(level: string, name: string, s: LinkingScore): string[] {
  const linked = s.correct + s.wrong;
  return [
    level,
    name,
    String(s.edges),
    pct(s.correct, s.edges),
    pct(s.wrong, s.edges),
    pct(s.unlinked, s.edges),
    pct(s.wrong, linked),
    pct(s.exact, s.requests),
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '150' },
      levels: { type: 'string', default: '1,4,8,32' },
      threshold: { type: 'string', default: '0.9' },
      'offline-threshold': { type: 'string', default: '0.8' },
      record: { type: 'string' },
      'envoy-workers': { type: 'string', default: '2' },
    },
  });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const threshold = Number(values.threshold);
  const offlineThreshold = Number(values['offline-threshold']);
  const levels = String(values.levels)
    .split(',')
    .map((x) => Number(x));
  for (const [name, v] of [
    ['requests', requests],
    ['warmup', warmup],
  ] as const)
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`--${name} must be a non-negative integer, got '${values[name]}'`);
  if (!(threshold >= 0.5 && threshold <= 1))
    throw new Error(`--threshold must be within [0.5, 1], got '${values.threshold}'`);
  const envoyWorkers = Number(values['envoy-workers']);
  if (!Number.isInteger(envoyWorkers) || envoyWorkers < 1 || envoyWorkers > 16)
    throw new Error(`--envoy-workers must be an integer 1-16, got '${values['envoy-workers']}'`);
  if (levels.some((c) => !Number.isInteger(c) || c < 1 || c > 256))
    throw new Error(`--levels must be integers 1-256, got '${values.levels}'`);

  const cleanups: (() => unknown)[] = [];
  const t = { teardown: (f: () => unknown) => void cleanups.push(f) };
  const collector = await startCollector({
    dataDir: mkdtempSync(join(tmpdir(), 'meshtrace-bench-linking-')),
    httpPort: 0,
    grpcPort: false,
  });
  try {
    const mesh = await startLegacyMesh(t, {
      collector: `http://127.0.0.1:${collector.httpPort}`,
      linkingParameters: { threshold },
      envoyConcurrency: envoyWorkers,
    });
    console.log(
      `bench:linking — 4 legacy services (Python, Go, Node) behind Envoy 1.40 sidecars (${envoyWorkers} worker(s) each), ` +
        `${requests} requests per level after ${warmup} at concurrency 1; link threshold ${threshold} at the sidecars, ${offlineThreshold} offline`,
    );
    const warm = await drive(mesh.order, 1, warmup, 'warmup');
    if (warm.failed > 0) console.log(`warm-up: ${warm.failed} request(s) failed`);

    const history: Span[] = [];
    const rows: string[][] = [
      ['concurrency', 'linking', 'edges', 'correct', 'wrong', 'unlinked', 'wrong of linked', 'whole trace exact'],
    ];
    const notes: string[] = [];
    const recorded: { concurrency: number; spans: Span[]; truth: unknown[]; roots: string[] }[] = [];
    let sinceUs = Date.now() * 1000;
    await new Promise((r) => setTimeout(r, EXPORT_SETTLE_MS));
    await collector.flush();
    history.push(...(await collector.store.spansInWindow({ startUs: 0, endUs: sinceUs })).spans);
    for (const c of levels) {
      const startUs = Date.now() * 1000;
      const before = {
        single: await mesh.counter('wasmcustom.meshtrace.link.single'),
        model: await mesh.counter('wasmcustom.meshtrace.link.model'),
        provisional: await mesh.counter('wasmcustom.meshtrace.link.provisional'),
      };
      const run = await drive(mesh.order, c, requests, `c${c}`);
      await new Promise((r) => setTimeout(r, EXPORT_SETTLE_MS));
      await collector.flush();
      const { spans } = await collector.store.spansInWindow({ startUs, endUs: Date.now() * 1000 });
      const truth = truthOf(mesh.truth(), run.roots);
      const online = scoreLinking(spans, truth, run.roots);
      const t0 = performance.now();
      const offline = linkWindow(spans, { history, threshold: offlineThreshold });
      const offlineMs = performance.now() - t0;
      const level = String(c);
      rows.push(row(level, 'none (mesh today)', scoreLinking(unlinked(spans), truth, run.roots)));
      rows.push(row('', 'greedy (FCFS)', scoreLinking(greedy(spans), truth, run.roots)));
      rows.push(row('', 'online (sidecar)', online));
      rows.push(row('', 'online + offline', scoreLinking(offline.value, truth, run.roots)));
      const d = {
        single: (await mesh.counter('wasmcustom.meshtrace.link.single')) - before.single,
        model: (await mesh.counter('wasmcustom.meshtrace.link.model')) - before.model,
        provisional: (await mesh.counter('wasmcustom.meshtrace.link.provisional')) - before.provisional,
      };
      notes.push(
        `c=${c}: ${(run.roots.length / run.seconds).toFixed(0)} req/s, ${run.failed} failed; sidecar decisions ` +
          `single ${d.single}, model ${d.model}, provisional ${d.provisional}; offline pass linked ` +
          `${offline.links.length}, left ${offline.unlinked.length} in ${offlineMs.toFixed(0)} ms; ` +
          `spans missing for ${online.missing} edge(s)`,
      );
      if (values.record) recorded.push({ concurrency: c, spans, truth, roots: run.roots });
      history.push(...spans);
      sinceUs = Date.now() * 1000;
    }
    if (values.record) {
      writeFileSync(
        values.record,
        JSON.stringify({
          warmup: history.slice(0, history.length - recorded.reduce((n, r) => n + r.spans.length, 0)),
          levels: recorded,
        }),
      );
      console.log(`recorded to ${values.record}`);
    }
    console.log(table(rows));
    for (const n of notes) console.log(n);
    console.log(
      'targets: 100 % at concurrency 1; ≥ 95 % edges correct at 8 (online + offline); wrong ≤ 2 % of linked at 8',
    );
    return 0;
  } finally {
    for (const f of cleanups.reverse()) await f();
    await collector.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
