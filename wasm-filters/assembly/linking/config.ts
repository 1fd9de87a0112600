// The `linking` section of the plugin JSON: online linking through a workload that forwards no
// trace context (wasm-filters/README.md "Online linking").
//   "linking": { "workload": "orders", "threshold": 0.9, "min_samples": 20,
//                "max_inflight": 256, "max_candidates": 32, "max_age_ms": 60000 }
// Both filters of one workload carry it: the inbound one registers requests in flight, the
// outbound one links the app's context-less calls to them. No section = no linking.
// Problems name the field, e.g. `linking.threshold: must be between 0.5 and 1, got 2`.
import { JsonKind, JsonValue } from '../json/value';

export class LinkingConfig {
  /** Shared-data key of the workload: its inbound and outbound listeners must name the same one. */
  workload: string = '';
  /** Least confidence of a model-based link; below it the call stays provisional (a wrong link is worse than none). */
  threshold: f64 = 0.9;
  /** Certain observations of an inbound operation before its learned call pattern rules candidates out. */
  minSamples: i32 = 20;
  /** Inbound requests tracked at once per workload; more are not registered (counted). */
  maxInflight: i32 = 256;
  /** Candidate span ids written on a provisional span; with more in flight none are written (= all). */
  maxCandidates: i32 = 32;
  /** An entry older than this is dropped (its stream end was never seen, e.g. a VM restart). */
  maxAgeMs: i32 = 60000;

  describe(): string {
    return (
      `linking=${this.workload} (threshold ${this.threshold}, min_samples ${this.minSamples}, ` +
      `max_inflight ${this.maxInflight}, max_candidates ${this.maxCandidates}, max_age ${this.maxAgeMs}ms)`
    );
  }
}

export class LinkingConfigResult {
  config: LinkingConfig | null = null;
  error: string = '';
}

const KEYS: string[] = ['workload', 'threshold', 'min_samples', 'max_inflight', 'max_candidates', 'max_age_ms'];
export const WORKLOAD_MAX = 256;

class SectionReader {
  error: string = '';
  constructor(readonly section: JsonValue) {}

  fail(key: string, what: string): void {
    if (this.error.length == 0) this.error = `linking.${key}: ${what}`;
  }

  num(key: string, fallback: f64, min: f64, max: f64, integer: bool): f64 {
    const v = this.section.get(key);
    if (v === null || this.error.length > 0) return fallback;
    if (v.kind != JsonKind.Number || (integer && v.num != Math.floor(v.num))) {
      const what = integer ? 'an integer' : 'a number';
      this.fail(key, `expected ${what}, got ${v.kind == JsonKind.Number ? v.num.toString() : v.kindName()}`);
      return fallback;
    }
    if (v.num < min || v.num > max) {
      this.fail(key, `must be between ${min} and ${max}, got ${v.num}`);
      return fallback;
    }
    return v.num;
  }
}

/** Reads the section; `serviceName` is the default workload. */
export function readLinkingConfig(section: JsonValue, serviceName: string): LinkingConfigResult {
  const result = new LinkingConfigResult();
  if (section.kind != JsonKind.Object) {
    result.error = `linking: expected an object, got ${section.kindName()}`;
    return result;
  }
  const r = new SectionReader(section);
  for (let i = 0; i < section.keys.length; i++) {
    if (!KEYS.includes(section.keys[i])) {
      r.fail(section.keys[i], `unknown key (known: ${KEYS.join(', ')})`);
      break;
    }
  }
  const c = new LinkingConfig();
  c.workload = serviceName;
  const w = section.get('workload');
  if (w !== null && r.error.length == 0) {
    if (w.kind != JsonKind.String) r.fail('workload', `expected a string, got ${w.kindName()}`);
    else if (w.str.length == 0 || w.str.length > WORKLOAD_MAX)
      r.fail('workload', `must be 1-${WORKLOAD_MAX} characters`);
    else c.workload = w.str;
  }
  // Under 0.5 a "link" could be less likely than its alternative: not a link.
  c.threshold = r.num('threshold', c.threshold, 0.5, 1, false);
  c.minSamples = <i32>r.num('min_samples', c.minSamples, 1, 100000, true);
  c.maxInflight = <i32>r.num('max_inflight', c.maxInflight, 1, 1024, true);
  c.maxCandidates = <i32>r.num('max_candidates', c.maxCandidates, 1, 256, true);
  c.maxAgeMs = <i32>r.num('max_age_ms', c.maxAgeMs, 1000, 3600000, true);
  if (r.error.length == 0) result.config = c;
  else result.error = r.error;
  return result;
}
