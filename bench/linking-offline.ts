// Offline linking accuracy (issue 9, offline half) on seeded synthetic windows of the "shop"
// workload (analysis/linking/synthetic.ts) at concurrency 1, 4, 8, 32. Per level and method:
// share of outbound edges linked correctly, linked wrongly, left unlinked; wrong share among
// linked edges; share of requests whose every call is linked to them (whole request exact).
// Baselines measured on the same windows: no linking (what a mesh gives without header
// forwarding) and greedy "most recent in-flight inbound". The model is learnt from a separate
// linked window. Run with `npm run bench:linking-offline`, or import linkingOfflineBench().
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { assignGreedy, assignProvisional, type Link, learnCallModel } from '../analysis/linking/index.ts';
import { scoreLinks, syntheticWindow } from '../analysis/linking/synthetic.ts';
import { table } from './lib/stats.ts';

const LEVELS = [1, 4, 8, 32];
const REQUESTS = 400;
const THRESHOLD = 0.9;

const pct = (n: number, d: number): string => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

function requestsExact(truth: ReadonlyMap<string, string>, links: readonly Link[]): { exact: number; total: number } {
  const got = new Map(links.map((l) => [l.outboundSpanId, l.inboundSpanId]));
  const ok = new Map<string, boolean>();
  for (const [o, i] of truth) ok.set(i, (ok.get(i) ?? true) && got.get(o) === i);
  let exact = 0;
  for (const v of ok.values()) if (v) exact++;
  return { exact, total: ok.size };
}

export function linkingOfflineBench(): Record<number, { global: number; greedy: number; wrongShare: number }> {
  const model = learnCallModel(syntheticWindow({ concurrency: 1, requests: 600, seed: 1, linked: true }).spans);
  const rows: string[][] = [
    ['concurrency / method', 'edges', 'correct', 'wrong', 'unlinked', 'wrong of linked', 'requests exact', 'ms'],
  ];
  const summary: Record<number, { global: number; greedy: number; wrongShare: number }> = {};
  for (const c of LEVELS) {
    const w = syntheticWindow({ concurrency: c, requests: REQUESTS, seed: 1000 + c });
    const timed = (f: () => Link[]): [Link[], number] => {
      const t0 = performance.now();
      const links = f();
      return [links, performance.now() - t0];
    };
    const methods: [string, Link[], number][] = [
      ['no linking', [], 0],
      ['greedy (most recent in-flight)', ...timed(() => assignGreedy(w.spans))],
      ['global, no threshold', ...timed(() => assignProvisional(w.spans, model, { threshold: 0 }).links)],
      [
        `global, confidence ≥ ${THRESHOLD}`,
        ...timed(() => assignProvisional(w.spans, model, { threshold: THRESHOLD }).links),
      ],
    ];
    for (const [name, links, ms] of methods) {
      const s = scoreLinks(w.truth, links);
      const r = requestsExact(w.truth, links);
      rows.push([
        `${c} / ${name}`,
        String(s.edges),
        pct(s.correct, s.edges),
        pct(s.wrong, s.edges),
        pct(s.unlinked, s.edges),
        pct(s.wrong, s.correct + s.wrong),
        pct(r.exact, r.total),
        ms.toFixed(0),
      ]);
    }
    const g = scoreLinks(w.truth, methods[2]![1]);
    const gr = scoreLinks(w.truth, methods[1]![1]);
    const th = scoreLinks(w.truth, methods[3]![1]);
    summary[c] = {
      global: g.correct / g.edges,
      greedy: gr.correct / gr.edges,
      wrongShare: th.wrong / Math.max(1, th.correct + th.wrong),
    };
  }
  console.log(table(rows));
  console.log('');
  for (const c of LEVELS) {
    const s = summary[c]!;
    console.log(
      `concurrency ${c}: global ${(100 * s.global).toFixed(1)} % vs greedy ${(100 * s.greedy).toFixed(1)} % ` +
        `(ratio ${(s.global / Math.max(1e-9, s.greedy)).toFixed(2)}×); wrong among linked at threshold ${(100 * s.wrongShare).toFixed(1)} %`,
    );
  }
  const c8 = summary[8]!;
  console.log(
    `targets: 100 % at concurrency 1 ${summary[1]!.global === 1 ? 'met' : 'NOT met'}; ` +
      `≥ 95 % at concurrency 8 ${c8.global >= 0.95 ? 'met' : 'NOT met'}; ` +
      `wrong ≤ 2 % of linked at 8 ${c8.wrongShare <= 0.02 ? 'met' : 'NOT met'} ` +
      `(synthetic windows, not yet real Envoy sidecars; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
  );
  return summary;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('## offline linking accuracy (synthetic windows with ground truth)');
  linkingOfflineBench();
}
