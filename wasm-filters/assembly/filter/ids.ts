// Trace and span ids from WASI random_get (Envoy's CSPRNG), as lowercase hex. An all-zero id
// is invalid in every format, so a zero draw is redrawn.
//
// Bytes are drawn POOL_SIZE at a time and handed out in order: one random_get per 32 span ids
// instead of one per id (measured in Envoy 1.40: ≈ 0.6 µs per random_get call, more than most
// other host calls). The sequence of bytes per id is the same as drawing each id on its own.
import { randomBytes } from '../abi/wasi';
import { bytesToHex } from '../trace-context/chars';

const POOL_SIZE: i32 = 256;
const POOL: usize = memory.data(POOL_SIZE);
let used: i32 = POOL_SIZE;

function randomHex(bytes: i32): string {
  let zero = true;
  while (zero) {
    if (used + bytes > POOL_SIZE) {
      randomBytes(POOL, POOL_SIZE);
      used = 0;
    }
    const p = POOL + <usize>used;
    used += bytes;
    for (let i = 0; i < bytes && zero; i++) zero = load<u8>(p + i) == 0;
    if (!zero) return bytesToHex(p, bytes);
  }
  return '';
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
