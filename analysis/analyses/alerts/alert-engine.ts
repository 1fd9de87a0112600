// Evaluates alert rules on a schedule against a SpanSource and notifies state changes:
//
//   inactive ──(rule fires)──▶ firing ──(rule stops firing)──▶ resolved (= inactive again)
//               POST firing                 POST resolved
//
// Each evaluation reads the spans of the longest rule window once and hands every rule the
// part of it inside its own window. new_error_pattern learns: the first evaluation takes the
// templates present as the baseline (nothing is "new" at start-up); afterwards a template not
// seen before fires until it has been known for one window. Known templates are bounded
// (oldest forgotten first). A source or webhook failure is recorded and the schedule goes on.
import type { Span } from '../../model.ts';
import type { SpanSource } from '../span-source.ts';
import { evaluateRule, type RuleEvaluation } from './evaluate-rule.ts';
import type { AlertConfig, AlertRule } from './rules.ts';
import { type AlertNotification, WebhookNotifier } from './webhook.ts';

export interface AlertState {
  rule: string;
  firing: boolean;
  since: number | null; // µs
  last: RuleEvaluation | null;
}

const MAX_TEMPLATES = 10_000;

export class AlertEngine {
  readonly notifier: WebhookNotifier;
  private readonly states = new Map<string, AlertState>();
  private readonly firstSeen = new Map<string, number>(); // "rule\0template" → µs first seen
  private evaluations = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  sourceErrors = 0;
  lastSourceError: string | null = null;

  constructor(
    readonly config: AlertConfig,
    private readonly source: SpanSource,
    private readonly nowUs: () => number = () => Date.now() * 1000,
  ) {
    this.notifier = new WebhookNotifier(config.webhook.url, config.webhook.timeoutMs);
    for (const r of config.rules) this.states.set(r.name, { rule: r.name, firing: false, since: null, last: null });
  }

  state(rule: string): AlertState | undefined {
    return this.states.get(rule);
  }

  /** One evaluation of every rule; resolves after notifications were attempted. */
  async evaluate(): Promise<AlertNotification[]> {
    const now = this.nowUs();
    const longest = Math.max(...this.config.rules.map((r) => r.windowUs));
    let spans: Span[];
    try {
      spans = (await this.source.readSpans({ startUs: now - longest, endUs: now })).spans;
    } catch (e) {
      this.sourceErrors++;
      this.lastSourceError = (e as Error).message;
      return [];
    }
    const sent: AlertNotification[] = [];
    const learning = this.evaluations === 0;
    for (const rule of this.config.rules) {
      const inWindow = spans.filter((s) => s.startUs >= now - rule.windowUs && s.startUs < now);
      const ev = evaluateRule(rule, inWindow, this.knownFor(rule, now, learning, inWindow));
      const st = this.states.get(rule.name)!;
      st.last = ev;
      if (ev.firing && !st.firing) {
        st.firing = true;
        st.since = now;
        sent.push(this.notification(rule, ev, 'firing', now));
      } else if (!ev.firing && st.firing) {
        sent.push(this.notification(rule, ev, 'resolved', now));
        st.firing = false;
        st.since = null;
      }
      if (ev.templates) this.learn(rule, ev.templates, now);
    }
    this.evaluations++;
    for (const n of sent) this.notifier.enqueue(n);
    await this.notifier.flush();
    return sent;
  }

  // Templates that count as known for this evaluation: learned ones older than the window; on
  // the very first evaluation, also everything present now (the baseline).
  private knownFor(rule: AlertRule, now: number, learning: boolean, inWindow: Span[]): Set<string> {
    const known = new Set<string>();
    if (rule.kind !== 'new_error_pattern') return known;
    const prefix = `${rule.name}\u0000`;
    for (const [key, at] of this.firstSeen)
      if (key.startsWith(prefix) && at < now - rule.windowUs) known.add(key.slice(prefix.length));
    if (learning) {
      const baseline = evaluateRule(rule, inWindow, known).templates ?? new Map();
      for (const [tpl] of baseline) {
        known.add(tpl);
        this.firstSeen.set(prefix + tpl, Number.NEGATIVE_INFINITY);
      }
    }
    return known;
  }

  private learn(rule: AlertRule, templates: Map<string, number>, now: number): void {
    for (const [tpl] of templates) {
      const key = `${rule.name}\u0000${tpl}`;
      if (this.firstSeen.has(key)) continue;
      if (this.firstSeen.size >= MAX_TEMPLATES) this.firstSeen.delete(this.firstSeen.keys().next().value!);
      this.firstSeen.set(key, now);
    }
  }

  private notification(
    rule: AlertRule,
    ev: RuleEvaluation,
    state: 'firing' | 'resolved',
    now: number,
  ): AlertNotification {
    const st = this.states.get(rule.name)!;
    const iso = (us: number) => new Date(us / 1000).toISOString();
    return {
      version: 'meshtrace.alert/v1',
      rule: rule.name,
      kind: rule.kind,
      state,
      service: rule.service,
      operation: rule.operation,
      value: ev.value,
      threshold: rule.kind === 'error_rate' || rule.kind === 'latency_percentile' ? rule.above : null,
      summary: ev.summary,
      startsAt: iso(st.since ?? now),
      endsAt: state === 'resolved' ? iso(now) : null,
    };
  }

  /** Evaluates every `evaluationIntervalMs` until stop(); evaluations never overlap. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.evaluate().then(
        () => undefined,
        () => undefined,
      );
      this.running.finally(() => {
        this.running = null;
      });
    };
    this.timer = setInterval(tick, this.config.evaluationIntervalMs);
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
