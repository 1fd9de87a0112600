// Counters the filter defines in Envoy (proxy_define_metric). Envoy shows them under its
// custom Wasm stats prefix (see wasm-filters/README.md). One set per VM: every root and stream
// context of the VM shares these ids; Envoy aggregates the same name across worker VMs.
import { LINK_METHOD_NAMES } from '../linking/linker';
import { MetricType } from '../abi/enums';
import { defineMetric, incrementMetric } from '../abi/hostcalls';
import { DROPPED_BY, KEPT_BY } from '../sampling/sampler';

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

  // Ids of meshtrace.sampled.<kept_by> / meshtrace.sampling_dropped.<dropped_by> by reason index,
  // + 1 (0 = not defined yet; Envoy's first counter id is 0). One of them moves on every request:
  // no name is built or searched for per request.
  private keptIds: StaticArray<u32> = new StaticArray<u32>(KEPT_BY.length);
  private droppedIds: StaticArray<u32> = new StaticArray<u32>(DROPPED_BY.length);

  /** meshtrace.sampled.<KEPT_BY[keptBy]>. */
  sampled(keptBy: i32): void {
    incrementMetric(cachedId(this.keptIds, keptBy, 'meshtrace.sampled.', KEPT_BY), 1);
  }

  /** meshtrace.sampling_dropped.<DROPPED_BY[droppedBy]>. */
  samplingDropped(droppedBy: i32): void {
    incrementMetric(cachedId(this.droppedIds, droppedBy, 'meshtrace.sampling_dropped.', DROPPED_BY), 1);
  }

  private linkIds: StaticArray<u32> = new StaticArray<u32>(LINK_METHOD_NAMES.length);

  /** meshtrace.link.<LINK_METHOD_NAMES[method]>: one per context-less call of a linking filter. */
  linkDecision(method: i32): void {
    incrementMetric(cachedId(this.linkIds, method, 'meshtrace.link.', LINK_METHOD_NAMES), 1);
  }

  inc(id: u32): void {
    incrementMetric(id, 1);
  }
}

/** The counter `prefix + names[i]`, defined on first use; `ids` holds id + 1 per index. */
function cachedId(ids: StaticArray<u32>, i: i32, prefix: string, names: string[]): u32 {
  let id = ids[i];
  if (id == 0) ids[i] = id = defineMetric(MetricType.Counter, prefix + names[i]) + 1;
  return id - 1;
}
