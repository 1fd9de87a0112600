// Plugin configuration of the trace filter: JSON (Envoy's `configuration` StringValue),
// validated once at on_configure. Every problem names the field by its path, e.g.
//   propagation.outbound[1]: unknown format "b4"
// Sections are read by small functions over a path-tracking cursor, so later sections
// (sampling, export, trust) slot in as new keys of ROOT_KEYS plus one reader each.
import { JsonKind, JsonValue } from '../json/value';
import { JsonReader } from '../json/reader';
import { ExportConfig, readExportConfig } from '../export/config';
import { LinkingConfig, readLinkingConfig } from '../linking/config';
import { readSamplingConfig, SamplingConfig } from '../sampling/config';
import { defaultInboundFormats, Format, FORMAT_NAMES, formatFromName } from '../trace-context/formats';

export const SERVICE_NAME_MAX = 256;

function propagationOnlySampling(): SamplingConfig {
  const c = new SamplingConfig();
  c.trustInternal = true;
  c.enabled = false;
  return c;
}

export class FilterConfig {
  serviceName: string = 'meshtrace';
  /** "inbound" (server side of the workload) or "outbound" (client side). */
  direction: string = 'inbound';
  inbound: i32[] = defaultInboundFormats();
  outbound: i32[] = [Format.W3c];
  traceresponse: bool = true;
  /** Span export; null = spans are not exported. */
  export: ExportConfig | null = null;
  /**
   * The `sampling` section (core/sampling/README.md). Without one the filter keeps its
   * propagation-only behaviour: callers are trusted (their sampled flag is honoured), new traces
   * are kept, tracestate passes unchanged (no `ot=th` written); the error/latency bias still
   * decides export. With one, the section's own defaults apply (an edge unless it says so).
   */
  sampling: SamplingConfig = propagationOnlySampling();
  /** Online linking through apps that forward no context; null = none (linking/config.ts). */
  linking: LinkingConfig | null = null;

  describe(): string {
    const exp = this.export;
    return (
      `service_name=${this.serviceName} direction=${this.direction} inbound=[${names(this.inbound)}] ` +
      `outbound=[${names(this.outbound)}] traceresponse=${this.traceresponse}` +
      (exp === null ? '' : ' ' + exp.describe()) +
      (this.sampling.enabled ? ' ' + this.sampling.describe() : '') +
      (this.linking === null ? '' : ' ' + (this.linking as LinkingConfig).describe())
    );
  }
}

function names(formats: i32[]): string {
  const out: string[] = [];
  for (let i = 0; i < formats.length; i++) out.push(FORMAT_NAMES[formats[i]]);
  return out.join(',');
}

/** The result of reading a configuration: a config, or the first error found. */
export class ConfigResult {
  config: FilterConfig | null = null;
  error: string = '';
}

const ROOT_KEYS: string[] = [
  'service_name',
  'direction',
  'propagation',
  'traceresponse',
  'export',
  'sampling',
  'linking',
];
const PROPAGATION_KEYS: string[] = ['inbound', 'outbound'];
const DIRECTIONS: string[] = ['inbound', 'outbound'];

class Reader {
  error: string = '';

  fail(path: string, what: string): void {
    if (this.error.length == 0) this.error = `${path}: ${what}`;
  }

  ok(): bool {
    return this.error.length == 0;
  }

  expect(v: JsonValue, kind: JsonKind, path: string, kindName: string): bool {
    if (v.kind == kind) return true;
    this.fail(path, `expected ${kindName}, got ${v.kindName()}`);
    return false;
  }

  /** Refuses keys outside `allowed` (a typo must not silently fall back to a default). */
  knownKeys(obj: JsonValue, allowed: string[], prefix: string): void {
    for (let i = 0; i < obj.keys.length && this.ok(); i++) {
      if (!allowed.includes(obj.keys[i])) this.fail(prefix + obj.keys[i], 'unknown key');
    }
  }

  formats(v: JsonValue, path: string): i32[] {
    const out: i32[] = [];
    if (!this.expect(v, JsonKind.Array, path, 'an array of format names')) return out;
    for (let i = 0; i < v.items.length && this.ok(); i++) {
      const item = v.items[i];
      const p = `${path}[${i}]`;
      if (!this.expect(item, JsonKind.String, p, 'a format name')) break;
      const f = formatFromName(item.str);
      if (f < 0) this.fail(p, `unknown format "${item.str}" (known: ${FORMAT_NAMES.join(', ')})`);
      else if (out.includes(f)) this.fail(p, `format "${item.str}" listed twice`);
      else out.push(f);
    }
    return out;
  }
}

function isBlank(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return false;
  }
  return true;
}

export function readConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const config = new FilterConfig();
  // No configuration at all means every default.
  if (isBlank(text)) {
    result.config = config;
    return result;
  }
  const json = new JsonReader(text);
  const root = json.parse();
  if (root === null) {
    result.error = `not valid JSON: ${json.error}`;
    return result;
  }
  const r = new Reader();
  if (!r.expect(root, JsonKind.Object, '(root)', 'an object')) {
    result.error = r.error;
    return result;
  }
  r.knownKeys(root, ROOT_KEYS, '');

  const service = root.get('service_name');
  if (service !== null && r.ok() && r.expect(service, JsonKind.String, 'service_name', 'a string')) {
    if (service.str.length == 0 || service.str.length > SERVICE_NAME_MAX) {
      r.fail('service_name', `must be 1-${SERVICE_NAME_MAX} characters`);
    } else config.serviceName = service.str;
  }

  const direction = root.get('direction');
  if (direction !== null && r.ok() && r.expect(direction, JsonKind.String, 'direction', 'a string')) {
    if (!DIRECTIONS.includes(direction.str))
      r.fail('direction', `must be "inbound" or "outbound", got "${direction.str}"`);
    else config.direction = direction.str;
  }

  const propagation = root.get('propagation');
  if (propagation !== null && r.ok() && r.expect(propagation, JsonKind.Object, 'propagation', 'an object')) {
    r.knownKeys(propagation, PROPAGATION_KEYS, 'propagation.');
    const inbound = propagation.get('inbound');
    if (inbound !== null && r.ok()) config.inbound = r.formats(inbound, 'propagation.inbound');
    const outbound = propagation.get('outbound');
    if (outbound !== null && r.ok()) config.outbound = r.formats(outbound, 'propagation.outbound');
  }

  const traceresponse = root.get('traceresponse');
  if (traceresponse !== null && r.ok() && r.expect(traceresponse, JsonKind.Bool, 'traceresponse', 'a boolean')) {
    config.traceresponse = traceresponse.bool;
  }

  const exp = root.get('export');
  if (exp !== null && r.ok()) {
    const e = readExportConfig(exp);
    if (e.config === null) r.error = e.error; // already "export.<field>: …"

    config.export = e.config;
  }

  const sampling = root.get('sampling');
  if (sampling !== null && r.ok()) {
    const s = readSamplingConfig(sampling, 'sampling');
    if (s.config === null)
      r.error = s.error; // already "sampling.<field>: …"
    else config.sampling = s.config as SamplingConfig;
  }

  const linking = root.get('linking');
  if (linking !== null && r.ok()) {
    const l = readLinkingConfig(linking, config.serviceName);
    if (l.config === null)
      r.error = l.error; // already "linking.<field>: …"
    else config.linking = l.config;
  }

  if (r.ok()) result.config = config;
  else result.error = r.error;
  return result;
}
