// Notification delivery: a JSON POST per state change. A delivery that fails (network error,
// timeout, non-2xx) is kept and retried on the next evaluation, oldest first; the queue is
// bounded and overflow is counted, never thrown — alerting must not take anything down.

export interface AlertNotification {
  version: 'meshtrace.alert/v1';
  rule: string;
  kind: string;
  state: 'firing' | 'resolved';
  service: string | null;
  operation: string | null;
  value: number | null;
  threshold: number | null;
  summary: string;
  startsAt: string; // ISO time the alert started firing
  endsAt: string | null; // ISO time it resolved
}

export interface DeliveryStats {
  delivered: number;
  failed: number; // attempts that failed (each retry counts)
  dropped: number; // notifications lost to queue overflow
  pending: number;
}

const MAX_PENDING = 1000;

export class WebhookNotifier {
  private readonly pending: AlertNotification[] = [];
  private stats = { delivered: 0, failed: 0, dropped: 0 };
  lastError: string | null = null;

  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {}

  enqueue(n: AlertNotification): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.stats.dropped++;
    }
    this.pending.push(n);
  }

  /** Sends queued notifications in order; stops at the first failure (kept for the next flush). */
  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const n = this.pending[0]!;
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(n),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        this.stats.failed++;
        this.lastError = `webhook ${this.url}: ${(e as Error).message}`;
        return;
      }
      this.pending.shift();
      this.stats.delivered++;
    }
  }

  deliveryStats(): DeliveryStats {
    return { ...this.stats, pending: this.pending.length };
  }
}
