// Cost cap: at most `perSecond` kept traces per second per key (route or service), bursts up to
// `burst`. A classic token bucket refilled lazily from elapsed time — no timers. The number of
// keys is bounded; past the bound new keys share one overflow bucket, so memory stays fixed.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.last = nowMs;
  }

  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.last) / 1000;
    this.last = Math.max(this.last, nowMs);
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perSecond);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export interface CostCapConfig {
  perSecond: number;
  burst: number;
  per: 'route' | 'service';
  maxKeys: number;
}

export class CostCap {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Keeps refused by the cap, per key (bounded like the buckets). */
  readonly dropped = new Map<string, number>();
  droppedTotal = 0;

  constructor(readonly config: CostCapConfig) {}

  /** True when the key may keep one more trace now; a refusal is counted. */
  admit(key: string, nowMs: number): boolean {
    const k = this.buckets.has(key) || this.buckets.size < this.config.maxKeys ? key : '(overflow)';
    let bucket = this.buckets.get(k);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.config.perSecond, this.config.burst, nowMs);
      this.buckets.set(k, bucket);
    }
    if (bucket.take(nowMs)) return true;
    this.droppedTotal++;
    this.dropped.set(k, (this.dropped.get(k) ?? 0) + 1);
    return false;
  }

  toString(): string {
    const c = this.config;
    return `CostCap{${c.perSecond}/s per ${c.per}, burst=${c.burst}}`;
  }
}
