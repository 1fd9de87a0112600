// One round of HTTP load with autocannon, keeping every response time (autocannon's own
// histogram rounds to whole milliseconds, too coarse for a local proxy hop).
import autocannon from 'autocannon';
import { percentile } from './stats.ts';

export interface LoadOptions {
  connections: number;
  durationS: number;
  /** Stop after this many requests instead (a warm-up measured in requests, not seconds). */
  amount?: number;
  headers?: Record<string, string>;
  /**
   * Headers drawn afresh for every request (e.g. a traceparent with its own trace id), merged
   * over `headers`. autocannon then rebuilds each request instead of replaying one buffer, so
   * the load generator costs more: compare only rounds run with the same setting.
   */
  perRequestHeaders?: () => Record<string, string>;
  /** Requests per second offered over all connections (open loop); unset = as fast as answered. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** Cap on kept samples per round so memory stays bounded on a fast run. */
const MAX_SAMPLES = 2_000_000;

export function runLoad(url: string, opts: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: opts.connections,
        duration: opts.durationS,
        ...(opts.amount === undefined ? {} : { amount: opts.amount }),
        headers: opts.headers,
        ...(opts.perRequestHeaders === undefined
          ? {}
          : {
              requests: [
                {
                  setupRequest: (req: { headers?: Record<string, string> }) => ({
                    ...req,
                    headers: { ...req.headers, ...opts.perRequestHeaders!() },
                  }),
                },
              ],
            }),
        timeout: 5,
        ...(opts.rate ? { overallRate: opts.rate } : {}),
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const requests = result['2xx'] + result.non2xx;
        resolve({
          requests,
          durationS: result.duration,
          rps: requests / result.duration,
          p50Ms: percentile(times, 50),
          p99Ms: percentile(times, 99),
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      if (times.length < MAX_SAMPLES) times.push(ms);
    });
  });
}
