// The two WASI calls the filters use. Envoy implements wasi_snapshot_preview1.random_get over
// its own CSPRNG, so ids drawn here are as good as the proxy's own.
import { wasi_clock_time_get, wasi_random_get } from './imports';

const SCRATCH: usize = memory.data(16);

/** Fills [ptr, ptr+len) with random bytes; aborts if the host refuses (errno is non-zero). */
export function randomBytes(ptr: usize, len: usize): void {
  const errno = wasi_random_get(ptr, len);
  if (errno != 0) abort(`meshtrace: random_get returned errno ${errno}`);
}

export function randomU64(): u64 {
  randomBytes(SCRATCH, 8);
  return load<u64>(SCRATCH);
}

/** Wall-clock time in nanoseconds since the Unix epoch. */
export function nowNanos(): u64 {
  const errno = wasi_clock_time_get(0, 1000, SCRATCH);
  if (errno != 0) abort(`meshtrace: clock_time_get returned errno ${errno}`);
  return load<u64>(SCRATCH);
}
