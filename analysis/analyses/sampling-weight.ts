// How many real requests one sampled span stands for (its "adjusted count" = 1 / sampling
// probability). Sources, first match wins:
//   1. tracestate `ot=th:<hex>` — OpenTelemetry probability sampling (tracestate handling
//      spec): th is the rejection threshold T as 1–14 hex digits with trailing zeros
//      dropped, T = th right-padded to 14 digits (56 bits), probability = (2^56 − T) / 2^56.
//      th:0 → 1 (everything kept), th:8 → 1/2, th:c → 1/4.
//   2. span attribute `meshtrace.sampling.threshold` — the same hex threshold, for pipelines
//      that drop tracestate (our Proxy-Wasm filter records it this way).
//   3. span attribute `sampling.probability` — a number in (0, 1].
// Anything missing or malformed counts as 1 (unsampled): a weight never fails a request,
// and `invalid` says how many were malformed.
import type { Span } from '../model.ts';

export function thresholdToProbability(th: string): number | null {
  if (!/^[0-9a-f]{1,14}$/.test(th)) return null;
  // 56-bit integers exceed a double's 53-bit mantissa: subtract exactly, then divide.
  const t = BigInt(`0x${th.padEnd(14, '0')}`);
  return Number((1n << 56n) - t) / 2 ** 56;
}

/** The `th` value inside a W3C tracestate's `ot` entry, or null. */
export function otThreshold(traceState: string): string | null {
  for (const member of traceState.split(',')) {
    const m = /^\s*ot=([^,]*)$/.exec(member);
    if (!m) continue;
    for (const field of m[1]!.split(';')) {
      if (field.startsWith('th:')) return field.slice(3).trim();
    }
  }
  return null;
}

export type Weight = {
  weight: number;
  source: 'tracestate' | 'threshold-attribute' | 'probability-attribute' | 'none';
  invalid: boolean;
};

export function samplingWeight(s: Pick<Span, 'traceState' | 'attributes'>): Weight {
  const th = s.traceState ? otThreshold(s.traceState) : null;
  if (th !== null) {
    const p = thresholdToProbability(th);
    return p !== null && p > 0
      ? { weight: 1 / p, source: 'tracestate', invalid: false }
      : { weight: 1, source: 'none', invalid: true };
  }
  const attrTh = s.attributes['meshtrace.sampling.threshold'];
  if (attrTh !== undefined) {
    const p = typeof attrTh === 'string' ? thresholdToProbability(attrTh) : null;
    return p !== null && p > 0
      ? { weight: 1 / p, source: 'threshold-attribute', invalid: false }
      : { weight: 1, source: 'none', invalid: true };
  }
  const prob = s.attributes['sampling.probability'];
  if (prob !== undefined) {
    return typeof prob === 'number' && prob > 0 && prob <= 1
      ? { weight: 1 / prob, source: 'probability-attribute', invalid: false }
      : { weight: 1, source: 'none', invalid: true };
  }
  return { weight: 1, source: 'none', invalid: false };
}
