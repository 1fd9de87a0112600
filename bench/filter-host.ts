// `node --import=tsx bench/filter-host.ts` — the built filter's cost per stream in the TypeScript
// Proxy-Wasm host (test/support/proxy-wasm-host/), for quick iteration before bench:filter
// confirms in real Envoy. Rows mirror bench:filter's (same configurations and request headers);
// for each: µs per whole stream (create → request headers → response headers → log/done/delete,
// host time included; best and median of the rounds), the guest alone with near-free host
// functions (bench/lib/bare-guest.ts; rounds alternate between rows), and the host calls the
// guest makes per stream, by function — every call crosses from V8 into Envoy's C++ in production.
//
// Options: --rounds N (8)  --streams N (20000 per round)  --warmup N (5000)  --wasm FILE (the
// built filter; another build, e.g. a saved copy of an earlier one, for an A/B in one process)
import { parseArgs } from 'node:util';
import type { RandomSource } from '../test/support/proxy-wasm-host/determinism.ts';
import { FILTER_WASM, requestHeaders } from '../test/support/proxy-wasm-host/filter.ts';
import { ProxyWasmHost } from '../test/support/proxy-wasm-host/host.ts';
import { bareGuest } from './lib/bare-guest.ts';
import { BENCH_ROWS } from './lib/filter-rows.ts';
import { writeNoopWasm } from './lib/noop-wasm.ts';
import { median, table } from './lib/stats.ts';

/** What Envoy answers for the properties the filter reads at the end of an exported stream. */
const ENVOY_PROPERTIES = {
  'request.method': 'GET',
  'request.url_path': '/',
  'request.scheme': 'http',
  'request.host': '127.0.0.1:10000',
  'request.useragent': 'autocannon',
  'request.size': 0n,
  'response.size': 2n,
  'response.code': 200n,
  'response.flags': 0n,
  'response.code_details': 'via_upstream',
  'source.address': '127.0.0.1:50000',
  'upstream.address': '127.0.0.1:10001',
  'upstream.request_attempt_count': 1n,
  'xds.cluster_name': 'upstream',
  route_name: '',
};

/**
 * xorshift32 bytes: the ids only need to be non-zero and distinct here, and node:crypto's
 * randomFillSync costs more per call than the whole guest stream (it would drown the figures).
 */
function fastRandom(): RandomSource {
  let x = 0x2545f491;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

interface Row {
  name: string;
  wasm: string;
  configuration: object | string;
  headers: Record<string, string>;
}

/** As autocannon's requests arrive through Envoy's HTTP/1 codec (plus what Envoy adds). */
function streamHeaders(row: Row): [string, string][] {
  return requestHeaders({ ...row.headers, 'x-forwarded-proto': 'http' });
}

function stream(host: ProxyWasmHost, headers: [string, string][]): void {
  const s = host.newHttpStream();
  s.callOnRequestHeaders(headers, true);
  s.callOnResponseHeaders({ ':status': '200', 'content-length': '2' }, false);
  s.complete();
  for (const call of host.pendingHttpCalls()) host.respondToHttpCall(call.token);
}

async function measure(row: Row, rounds: number, streams: number, warmup: number) {
  const host = await ProxyWasmHost.load(row.wasm, {
    configuration: row.configuration,
    random: fastRandom(),
    properties: ENVOY_PROPERTIES,
    logLevel: 'warn',
  });
  if (!host.startPlugin()) throw new Error(`${row.name}: on_configure refused: ${host.logMessages().join('; ')}`);
  const headers = streamHeaders(row);
  for (let i = 0; i < warmup; i++) stream(host, headers);
  const before = host.hostCalls();
  const us: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < streams; i++) stream(host, headers);
    us.push(Number(process.hrtime.bigint() - t0) / 1000 / streams);
  }
  const after = host.hostCalls();
  const total = rounds * streams;
  const calls = Object.entries(after)
    .map(([name, n]) => [name, (n - (before[name] ?? 0)) / total] as const)
    .filter(([, n]) => n > 0);
  return { best: Math.min(...us), median: median(us), calls };
}

/** Guest-only µs per stream for every row, rounds alternating between rows (drift lands on all). */
async function measureBare(rows: Row[], rounds: number, streams: number, warmup: number) {
  const runs = await Promise.all(
    rows.map((r) =>
      bareGuest(
        r.wasm,
        typeof r.configuration === 'string' ? r.configuration : JSON.stringify(r.configuration),
        streamHeaders(r),
        Object.fromEntries(
          Object.entries(ENVOY_PROPERTIES).map(([k, v]) => [k, typeof v === 'bigint' ? v : String(v)]),
        ),
      ),
    ),
  );
  for (const run of runs) run(warmup);
  const us: number[][] = rows.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = r % 2 === 0 ? k : runs.length - 1 - k;
      const t0 = process.hrtime.bigint();
      runs[i]?.(streams);
      us[i]?.push(Number(process.hrtime.bigint() - t0) / 1000 / streams);
    }
  }
  return us.map((u) => ({ best: Math.min(...u), median: median(u) }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '8' },
      streams: { type: 'string', default: '20000' },
      warmup: { type: 'string', default: '5000' },
      wasm: { type: 'string', default: FILTER_WASM },
    },
  });
  const rounds = Number(values.rounds);
  const streams = Number(values.streams);
  const warmup = Number(values.warmup);
  const rows: Row[] = [
    { name: 'no-op wasm filter', wasm: writeNoopWasm(), configuration: '', headers: {} },
    ...BENCH_ROWS.map((r) => ({ ...r, wasm: values.wasm })),
  ];
  console.log(`bench filter-host — ${values.wasm}, ${rounds} rounds × ${streams} streams after ${warmup} warm-up`);
  const bare = await measureBare(rows, rounds, streams, warmup);
  const out: string[][] = [
    ['row', 'TS host µs/stream best', 'median', 'guest alone µs/stream best', 'median', 'host calls/stream'],
  ];
  const detail: string[] = [];
  for (const [i, row] of rows.entries()) {
    const m = await measure(row, rounds, streams, warmup);
    const b = bare[i] as { best: number; median: number };
    const sum = m.calls.reduce((a, [, n]) => a + n, 0);
    out.push([
      row.name,
      m.best.toFixed(2),
      m.median.toFixed(2),
      b.best.toFixed(2),
      b.median.toFixed(2),
      sum.toFixed(2),
    ]);
    detail.push(`${row.name}: ${m.calls.map(([k, n]) => `${k} ${+n.toFixed(3)}`).join(', ') || 'none'}`);
  }
  console.log(table(out));
  console.log(`host calls per stream:\n  ${detail.join('\n  ')}`);
}

main().catch((err: unknown) => {
  console.error(`bench filter-host: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
