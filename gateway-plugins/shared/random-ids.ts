// Trace and span ids drawn from a pooled CSPRNG buffer: one randomFillSync per 4 KiB instead
// of one crypto call per id (a per-id call was a quarter of the per-request cost), hex-encoded
// once per refill so an id is a slice of that string (a per-id Buffer#toString was 8 % of the
// tracing stage's time in express-gateway). Same contract as core/trace-context
// newTraceId/newSpanId: lowercase hex, never all zero, all bytes random (so the W3C Level-2
// `random` flag holds).
import { randomFillSync } from 'node:crypto';
import { isAllZero } from '../../core/trace-context/ids.ts';

const POOL = Buffer.alloc(4096);
let hex = '';
let offset = 0;

function randomHex(chars: number): string {
  for (;;) {
    if (offset + chars > hex.length) {
      randomFillSync(POOL);
      hex = POOL.toString('hex');
      offset = 0;
    }
    const id = hex.slice(offset, offset + chars);
    offset += chars;
    if (!isAllZero(id)) return id;
  }
}

export const fastTraceId = (): string => randomHex(32);
export const fastSpanId = (): string => randomHex(16);
