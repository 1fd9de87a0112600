// The `export` section of the plugin JSON: where and how kept spans leave the proxy.
//   "export": { "cluster": "otlp", "authority": "collector:4318", "path": "/v1/traces",
//               "encoding": "protobuf", "batch_size": 64, "queue_size": 2048,
//               "flush_interval_ms": 1000, "timeout_ms": 2000, "max_in_flight": 2 }
// No section = no export (the filter still propagates and samples). Problems name the field:
//   export.cluster: required (the Envoy cluster of the OTLP/HTTP collector)
import { JsonKind, JsonValue } from '../json/value';

export enum Encoding {
  Protobuf = 0,
  Json = 1,
}

export class ExportConfig {
  /** Envoy cluster the http_call goes to (must exist in Envoy's config). */
  cluster: string = '';
  /** :authority of the export request; defaults to the cluster name. */
  authority: string = '';
  path: string = '/v1/traces';
  encoding: Encoding = Encoding.Protobuf;
  /** Spans per request; a full batch is sent at once, a partial one on the next tick. */
  batchSize: i32 = 64;
  /** Spans waiting (not yet sent) at most; beyond it new spans are dropped (queue_full). */
  queueSize: i32 = 2048;
  flushIntervalMs: i32 = 1000;
  /** Per export request; a slower collector counts collector_timeout for the batch. */
  timeoutMs: i32 = 2000;
  /** Export requests outstanding at once; more spans wait in the queue. */
  maxInFlight: i32 = 2;

  describe(): string {
    return (
      `export=${this.cluster}${this.path} (${this.encoding == Encoding.Json ? 'json' : 'protobuf'}, batch ${this.batchSize}, ` +
      `queue ${this.queueSize}, every ${this.flushIntervalMs}ms, timeout ${this.timeoutMs}ms, in flight ${this.maxInFlight})`
    );
  }
}

export class ExportConfigResult {
  config: ExportConfig | null = null;
  error: string = '';
}

const KEYS: string[] = [
  'cluster',
  'authority',
  'path',
  'encoding',
  'batch_size',
  'queue_size',
  'flush_interval_ms',
  'timeout_ms',
  'max_in_flight',
];

class SectionReader {
  error: string = '';
  constructor(readonly section: JsonValue) {}

  fail(key: string, what: string): void {
    if (this.error.length == 0) this.error = `export.${key}: ${what}`;
  }

  str(key: string, fallback: string, maxLen: i32): string {
    const v = this.section.get(key);
    if (v === null || this.error.length > 0) return fallback;
    if (v.kind != JsonKind.String) {
      this.fail(key, `expected a string, got ${v.kindName()}`);
      return fallback;
    }
    if (v.str.length == 0 || v.str.length > maxLen) this.fail(key, `must be 1-${maxLen} characters`);
    return v.str;
  }

  int(key: string, fallback: i32, min: i32, max: i32): i32 {
    const v = this.section.get(key);
    if (v === null || this.error.length > 0) return fallback;
    if (v.kind != JsonKind.Number || v.num != Math.floor(v.num)) {
      this.fail(key, `expected an integer, got ${v.kind == JsonKind.Number ? v.str : v.kindName()}`);
      return fallback;
    }
    if (v.num < <f64>min || v.num > <f64>max) {
      this.fail(key, `must be between ${min} and ${max}, got ${v.str}`);
      return fallback;
    }
    return <i32>v.num;
  }
}

export function readExportConfig(section: JsonValue): ExportConfigResult {
  const result = new ExportConfigResult();
  if (section.kind != JsonKind.Object) {
    result.error = `export: expected an object, got ${section.kindName()}`;
    return result;
  }
  const r = new SectionReader(section);
  for (let i = 0; i < section.keys.length; i++) {
    if (!KEYS.includes(section.keys[i])) {
      r.fail(section.keys[i], `unknown key (known: ${KEYS.join(', ')})`);
      break;
    }
  }
  const c = new ExportConfig();
  if (r.error.length == 0 && section.get('cluster') === null)
    r.fail('cluster', 'required (the Envoy cluster of the OTLP/HTTP collector)');
  c.cluster = r.str('cluster', '', 256);
  c.authority = r.str('authority', c.cluster, 256);
  c.path = r.str('path', c.path, 1024);
  if (r.error.length == 0 && !c.path.startsWith('/')) r.fail('path', `must start with "/", got "${c.path}"`);
  const encoding = r.str('encoding', 'protobuf', 16);
  if (encoding == 'json') c.encoding = Encoding.Json;
  else if (encoding != 'protobuf') r.fail('encoding', `must be "protobuf" or "json", got "${encoding}"`);
  c.batchSize = r.int('batch_size', c.batchSize, 1, 1024);
  c.queueSize = r.int('queue_size', c.queueSize, 1, 65536);
  c.flushIntervalMs = r.int('flush_interval_ms', c.flushIntervalMs, 10, 60000);
  c.timeoutMs = r.int('timeout_ms', c.timeoutMs, 1, 60000);
  c.maxInFlight = r.int('max_in_flight', c.maxInFlight, 1, 16);
  if (r.error.length == 0 && c.queueSize < c.batchSize)
    r.fail('queue_size', `must be at least batch_size (${c.batchSize}), got ${c.queueSize}`);
  if (r.error.length == 0) result.config = c;
  else result.error = r.error;
  return result;
}
