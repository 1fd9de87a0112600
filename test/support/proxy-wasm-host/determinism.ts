// Injectable randomness and time for the host, so a test can predict the trace ids a filter
// draws from WASI random_get and the timestamps it reads from clock_time_get.
import { randomFillSync } from 'node:crypto';

export type RandomSource = (length: number) => Uint8Array;

/** SplitMix64 stream: the same seed always yields the same bytes. */
export function seededRandom(seed: number | bigint = 1): RandomSource {
  const mask = (1n << 64n) - 1n;
  let state = BigInt(seed) & mask;
  let pending: number[] = [];
  const next = () => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z ^= z >> 31n;
    for (let i = 0; i < 8; i++) pending.push(Number((z >> BigInt(8 * i)) & 0xffn));
  };
  return (length) => {
    while (pending.length < length) next();
    const out = Uint8Array.from(pending.slice(0, length));
    pending = pending.slice(length);
    return out;
  };
}

/** Replays `bytes` in order (then zeros), for tests that assert exact ids. */
export function fixedRandom(bytes: Uint8Array): RandomSource {
  let pos = 0;
  return (length) => {
    const out = new Uint8Array(length);
    out.set(bytes.subarray(pos, pos + length));
    pos += length;
    return out;
  };
}

export const cryptoRandom: RandomSource = (length) => randomFillSync(new Uint8Array(length));

export interface Clock {
  /** WASI clock 0 (realtime), nanoseconds since the Unix epoch. */
  realtimeNs(): bigint;
  /** WASI clock 1 (monotonic), nanoseconds from an arbitrary origin. */
  monotonicNs(): bigint;
}

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  private offsetNs = 0n;
  constructor(
    private readonly startRealtimeNs = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n,
    private readonly startMonotonicNs = 1_000_000_000n,
  ) {}
  realtimeNs(): bigint {
    return this.startRealtimeNs + this.offsetNs;
  }
  monotonicNs(): bigint {
    return this.startMonotonicNs + this.offsetNs;
  }
  advance(ms: number): void {
    this.offsetNs += BigInt(Math.round(ms * 1e6));
  }
}

export const systemClock: Clock = {
  realtimeNs: () => BigInt(Date.now()) * 1_000_000n,
  monotonicNs: () => process.hrtime.bigint(),
};
