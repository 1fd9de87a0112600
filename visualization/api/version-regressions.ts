// Regressions between releases without being told which: for each service whose entry spans
// carry two or more `service.version`s, the first version seen is compared with the last
// (analysis/analyses/regressions.ts does the statistics). An explicit from/to applies to every
// service that has both versions.
import { regressions, type Regression, type RegressionOptions } from '../../analysis/analyses/regressions.ts';
import type { Span } from '../../analysis/model.ts';

export interface VersionComparison {
  service: string;
  fromVersion: string;
  toVersion: string;
  compared: number;
}

export interface VersionRegressions {
  changes: Array<Regression & { fromVersion: string; toVersion: string }>;
  comparisons: VersionComparison[];
}

export function versionRegressions(
  spans: readonly Span[],
  explicit?: { fromVersion: string; toVersion: string },
  options?: RegressionOptions,
): VersionRegressions {
  const byService = new Map<string, { spans: Span[]; firstSeen: Map<string, number> }>();
  for (const s of spans) {
    const v = s.resource['service.version'];
    if (typeof v !== 'string') continue;
    let e = byService.get(s.service);
    if (!e) {
      e = { spans: [], firstSeen: new Map() };
      byService.set(s.service, e);
    }
    e.spans.push(s);
    const seen = e.firstSeen.get(v);
    if (seen === undefined || s.startUs < seen) e.firstSeen.set(v, s.startUs);
  }
  const out: VersionRegressions = { changes: [], comparisons: [] };
  for (const [service, e] of [...byService.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    let fromVersion: string;
    let toVersion: string;
    if (explicit) {
      if (!e.firstSeen.has(explicit.fromVersion) || !e.firstSeen.has(explicit.toVersion)) continue;
      ({ fromVersion, toVersion } = explicit);
    } else {
      if (e.firstSeen.size < 2) continue;
      const ordered = [...e.firstSeen.entries()].sort((a, b) => a[1] - b[1]);
      fromVersion = ordered[0]![0];
      toVersion = ordered[ordered.length - 1]![0];
    }
    const r = regressions(e.spans, { by: 'version', from: fromVersion, to: toVersion }, options);
    out.comparisons.push({ service, fromVersion, toVersion, compared: r.compared });
    for (const c of r.changes) out.changes.push({ ...c, fromVersion, toVersion });
  }
  out.changes.sort((a, b) => b.cliffsDelta - a.cliffsDelta);
  return out;
}
