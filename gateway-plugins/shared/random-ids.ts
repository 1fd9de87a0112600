// Trace and span ids drawn from a pooled CSPRNG buffer: one randomFillSync per 4 KiB instead
// of one crypto call per id (a per-id call was a quarter of the per-request cost). Same
// contract as core/trace-context newTraceId/newSpanId: lowercase hex, never all zero, all bytes
// random (so the W3C Level-2 `random` flag holds).
import { randomFillSync } from 'node:crypto';
import { isAllZero } from '../../core/trace-context/ids.ts';

const POOL = Buffer.alloc(4096);
let offset = POOL.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL.length) {
      randomFillSync(POOL);
      offset = 0;
    }
    const hex = POOL.toString('hex', offset, offset + bytes);
    offset += bytes;
    if (!isAllZero(hex)) return hex;
  }
}

export const fastTraceId = (): string => randomHex(16);
export const fastSpanId = (): string => randomHex(8);
