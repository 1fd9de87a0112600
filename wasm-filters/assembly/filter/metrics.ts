// Counters the filter defines in Envoy (proxy_define_metric). Envoy shows them under its
// custom Wasm stats prefix (see wasm-filters/README.md). One set per VM: every root and stream
// context of the VM shares these ids; Envoy aggregates the same name across worker VMs.
import { MetricType } from '../abi/enums';
import { defineMetric, incrementMetric } from '../abi/hostcalls';

export class FilterMetrics {
  readonly requests: u32;
  readonly tracesStarted: u32;
  readonly contextsContinued: u32;
  private reasonNames: string[] = [];
  private reasonIds: u32[] = [];

  constructor() {
    this.requests = defineMetric(MetricType.Counter, 'meshtrace.requests');
    this.tracesStarted = defineMetric(MetricType.Counter, 'meshtrace.traces_started');
    this.contextsContinued = defineMetric(MetricType.Counter, 'meshtrace.contexts_continued');
  }

  /** meshtrace.invalid_context.<reason>, defined on first use (reason codes are a fixed set). */
  invalidContext(reason: string): void {
    let i = this.reasonNames.indexOf(reason);
    if (i < 0) {
      i = this.reasonNames.length;
      this.reasonNames.push(reason);
      this.reasonIds.push(defineMetric(MetricType.Counter, 'meshtrace.invalid_context.' + reason));
    }
    incrementMetric(this.reasonIds[i], 1);
  }

  private names: string[] = [];
  private ids: u32[] = [];

  /** A counter by full name, defined on first use (names come from fixed reason sets). */
  incNamed(name: string): void {
    let i = this.names.indexOf(name);
    if (i < 0) {
      i = this.names.length;
      this.names.push(name);
      this.ids.push(defineMetric(MetricType.Counter, name));
    }
    incrementMetric(this.ids[i], 1);
  }

  /** Adds `n` to a counter by full name, defined on first use. */
  addNamed(name: string, n: i64): void {
    let i = this.names.indexOf(name);
    if (i < 0) {
      i = this.names.length;
      this.names.push(name);
      this.ids.push(defineMetric(MetricType.Counter, name));
    }
    incrementMetric(this.ids[i], n);
  }

  inc(id: u32): void {
    incrementMetric(id, 1);
  }
}
