// Trace and span ids from WASI random_get (Envoy's CSPRNG), as lowercase hex. An all-zero id
// is invalid in every format, so a zero draw is redrawn.
import { randomBytes } from '../abi/wasi';
import { bytesToHex } from '../trace-context/chars';

const BUF: usize = memory.data(16);

function randomHex(bytes: i32): string {
  let zero = true;
  while (zero) {
    randomBytes(BUF, bytes);
    for (let i = 0; i < bytes && zero; i++) zero = load<u8>(BUF + i) == 0;
  }
  return bytesToHex(BUF, bytes);
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
