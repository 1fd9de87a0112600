// The offline path of issue 9 on a window recorded from the real legacy topology at concurrency 8
// (fixtures/legacy-c8.json.gz: `npm run bench:linking -- --record`, trimmed by fixtures/trim.ts):
// the spans the sidecars exported — their sure online links, and the calls they left provisional
// with candidate sets — plus the services' ground truth. Re-parenting is checked edge by edge
// against that truth, both as the library call and through the real collector (DuckDB store,
// its linking job), which must come to the same answer.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { startCollector } from '../../analysis/collector/collector.ts';
import { type GroundTruth, type LinkingScore, linkWindow, scoreLinking } from '../../analysis/linking/index.ts';
import type { Span } from '../../analysis/model.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';

const fixture = JSON.parse(
  gunzipSync(readFileSync(new URL('./fixtures/legacy-c8.json.gz', import.meta.url))).toString('utf8'),
) as { training: Span[]; window: Span[]; truth: GroundTruth[]; roots: string[] };

const wrongShare = (s: LinkingScore) => s.wrong / (s.correct + s.wrong);

test('a recorded ambiguous window: provisional calls are re-parented to the ground truth, wrong links ≤ 2 % of links', (t) => {
  const before = scoreLinking(fixture.window, fixture.truth, fixture.roots);
  t.is(before.wrong, 0, 'the sidecars linked only what was sure');
  t.true(before.unlinked > 300, `an ambiguous window: ${before.unlinked} calls left provisional`);
  const input = JSON.stringify(fixture.window);
  const out = linkWindow(fixture.window, { history: fixture.training });
  t.is(JSON.stringify(fixture.window), input, 'the input is never mutated');
  t.deepEqual(out.errors, []);
  const after = scoreLinking(out.value, fixture.truth, fixture.roots);
  t.log(
    `edges ${after.edges}: correct ${before.correct} → ${after.correct}, wrong ${after.wrong}, unlinked ${after.unlinked}`,
  );
  // Measured 2026-12-05: 346 → 747 of 828 (runs matched to requests; trigger by trigger: 508).
  t.true(after.correct >= 0.85 * after.edges, `${after.correct} of ${after.edges} edges right`);
  t.true(wrongShare(after) <= 0.02, `wrong among linked ${(100 * wrongShare(after)).toFixed(2)} %`);
  t.true(after.exact > before.exact, 'some requests now have their whole trace exactly right');
  // Every re-parented call carries the marks the UI shows inferred links by.
  for (const l of out.links) {
    const s = out.value.find((x) => x.spanId === l.outboundSpanId)!;
    t.is(s.attributes['meshtrace.link.inferred'], true);
    t.true((s.attributes['meshtrace.link.confidence'] as number) >= 0.8);
  }
});

test('the collector links the same window in its store, as the library does', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshtrace-linking-'));
  const store = await openDuckDBStore({ dataDir });
  t.teardown(() => store.close());
  await store.append([...fixture.training, ...fixture.window]);
  const all = [...fixture.training, ...fixture.window];
  const first = Math.min(...all.map((s) => s.startUs));
  const last = Math.max(...all.map((s) => s.endUs));
  const spanMs = Math.ceil((last - first) / 1000) + 1000;
  const collector = await startCollector({
    store,
    httpPort: 0, // a receiver must exist; nothing is sent to it here
    grpcPort: false,
    linking: { settleMs: 1, lookbackMs: spanMs, intervalMs: 3_600_000 },
  });
  t.teardown(() => collector.close());
  await collector.linkNow(last + 2000);
  const stats = collector.stats().linking;
  t.is(stats?.errors, 0);
  t.true((stats?.spansRewritten ?? 0) > 0);

  const stored = (await store.spansInWindow({ startUs: first - 1, endUs: last + 1 })).spans;
  const windowIds = new Set(fixture.window.map((s) => s.spanId));
  const viaCollector = scoreLinking(
    stored.filter((s) => windowIds.has(s.spanId)),
    fixture.truth,
    fixture.roots,
  );
  // The job loads training and window as one set (they are one stretch of its store).
  const viaLibrary = scoreLinking(linkWindow(all).value, fixture.truth, fixture.roots);
  t.is(viaCollector.correct, viaLibrary.correct);
  t.is(viaCollector.wrong, viaLibrary.wrong);
  // A second run has nothing left to decide: each call is decided once.
  const rewritten = collector.stats().linking?.spansRewritten;
  await collector.linkNow(last + 4000);
  t.is(collector.stats().linking?.spansRewritten, rewritten);
});
