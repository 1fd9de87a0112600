// One finished request as a span, built at on_log (the stream is over: response code, sizes,
// upstream and flags are known, and request headers are readable again). Attributes follow the
// OpenTelemetry HTTP semantic conventions (semconv 1.26+ stable names); Envoy-specific facts
// that semconv has no name for are under `envoy.*` / `meshtrace.*`.
import { getPropertyI64, getPropertyString } from '../abi/hostcalls';
import { addDynamicMetadata } from './dynamic-metadata';
import { LinkAttributes } from './link-attributes';
import { parseDecimal } from '../trace-context/chars';

/** OTLP SpanKind wire values (trace.proto). */
export enum SpanKind {
  Server = 2,
  Client = 3,
}

/** OTLP Status.StatusCode wire values. */
export enum StatusCode {
  Unset = 0,
  Ok = 1,
  Error = 2,
}

// Bounded sizes: a span never carries an unbounded client-controlled string.
export const MAX_ATTRIBUTE_CHARS = 512;
export const MAX_ATTRIBUTES = 32;

// Never pushed to: SpanRecord replaces them before its first attribute.
const NO_KEYS: string[] = [];
const NO_STRINGS: string[] = [];
const NO_INTS: i64[] = [];
const NO_FLAGS: bool[] = [];

export class SpanRecord {
  /** 32 lowercase hex. */
  traceId: string = '';
  /** 16 lowercase hex: the proxy's own span. */
  spanId: string = '';
  /** 16 lowercase hex, "" for a root span. */
  parentSpanId: string = '';
  traceState: string = '';
  name: string = '';
  kind: SpanKind = SpanKind.Server;
  startNs: u64 = 0;
  endNs: u64 = 0;
  /** HTTP status of the response sent downstream; 0 = none (reset before a response). */
  httpStatus: i32 = 0;
  status: StatusCode = StatusCode.Unset;
  /** A span link (e.g. the untrusted inbound context at an edge); "" = none. */
  linkTraceId: string = '';
  linkSpanId: string = '';
  linkReason: string = '';
  // Attributes in insertion order; a value is a string or an int (isInt). Shared empty lists
  // until the first attribute: a record is built at the end of every stream, but only a kept,
  // exported one gets attributes (four arrays fewer per request otherwise).
  keys: string[] = NO_KEYS;
  strValues: string[] = NO_STRINGS;
  intValues: i64[] = NO_INTS;
  isInt: bool[] = NO_FLAGS;

  /** Online-linking facts (link-attributes.ts); null when the filter does no linking. */
  link: LinkAttributes | null = null;

  private grow(): void {
    if (this.keys !== NO_KEYS) return;
    this.keys = [];
    this.strValues = [];
    this.intValues = [];
    this.isInt = [];
  }

  get durationNs(): u64 {
    return this.endNs > this.startNs ? this.endNs - this.startNs : 0;
  }

  setString(key: string, value: string): void {
    if (this.keys.length >= MAX_ATTRIBUTES) return;
    this.grow();
    this.keys.push(key);
    this.strValues.push(value.length > MAX_ATTRIBUTE_CHARS ? value.substring(0, MAX_ATTRIBUTE_CHARS) : value);
    this.intValues.push(0);
    this.isInt.push(false);
  }

  setInt(key: string, value: i64): void {
    if (this.keys.length >= MAX_ATTRIBUTES) return;
    this.grow();
    this.keys.push(key);
    this.strValues.push('');
    this.intValues.push(value);
    this.isInt.push(true);
  }
}

// --- properties (Envoy attribute paths; strings are raw bytes, ints 8 bytes little-endian)

function propString(a: string, b: string): string | null {
  return getPropertyString(a, b);
}

/** An int64 property; `fallback` when absent or not 8 bytes. */
function propInt(a: string, b: string, fallback: i64): i64 {
  return getPropertyI64(a, b, fallback);
}

function setIfPresent(record: SpanRecord, key: string, value: string | null): void {
  if (value !== null && value.length > 0) record.setString(key, value);
}

/** Splits "ip:port" / "[v6]:port"; returns the address part and stores the port in `port[0]`. */
function splitHostPort(addr: string, port: i64[]): string {
  const colon = addr.lastIndexOf(':');
  if (colon <= 0 || addr.endsWith(']')) return addr;
  port[0] = parseDecimal(addr.substring(colon + 1));
  let host = addr.substring(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.substring(1, host.length - 1);
  return host;
}

/**
 * Reads the response code (cheap: one host call) — what a sampler needs before deciding whether
 * the rest of the attributes are worth reading.
 */
export function readResponseCode(record: SpanRecord): void {
  record.httpStatus = <i32>propInt('response', 'code', 0);
}

/**
 * Fills the HTTP attributes of a kept span. Server spans (inbound listener) describe the
 * downstream client as the peer; client spans (outbound) describe the upstream server.
 * Span status per semconv: ERROR for 5xx on either side, for 4xx only on client spans, and for
 * no response at all; otherwise left UNSET.
 */
export function fillHttpAttributes(record: SpanRecord): void {
  const method = propString('request', 'method');
  const route = getPropertyString('route_name');
  const routeName = route === null ? '' : route;
  const m = method === null ? 'HTTP' : method;
  record.name = routeName.length > 0 ? m + ' ' + routeName : m;
  setIfPresent(record, 'http.request.method', method);
  setIfPresent(record, 'http.route', routeName);
  setIfPresent(record, 'url.path', propString('request', 'url_path'));
  setIfPresent(record, 'url.scheme', propString('request', 'scheme'));
  setIfPresent(record, 'server.address', propString('request', 'host'));
  setIfPresent(record, 'user_agent.original', propString('request', 'useragent'));
  if (record.httpStatus > 0) record.setInt('http.response.status_code', record.httpStatus);
  record.setInt('http.request.body.size', propInt('request', 'size', 0));
  record.setInt('http.response.body.size', propInt('response', 'size', 0));

  const port: i64[] = [0];
  const peer = propString(record.kind == SpanKind.Server ? 'source' : 'upstream', 'address');
  if (peer !== null && peer.length > 0) {
    record.setString('network.peer.address', splitHostPort(peer, port));
    if (port[0] > 0) record.setInt('network.peer.port', port[0]);
  }
  if (record.kind == SpanKind.Server) {
    const upstream = propString('upstream', 'address');
    setIfPresent(record, 'meshtrace.upstream.address', upstream);
  }
  setIfPresent(record, 'meshtrace.upstream.cluster', propString('xds', 'cluster_name'));
  // semconv: http.request.resend_count = attempts after the first (retries and redirects).
  const attempts = propInt('upstream', 'request_attempt_count', 0);
  if (attempts > 1) record.setInt('http.request.resend_count', attempts - 1);
  const flags = propInt('response', 'flags', 0);
  if (flags != 0) record.setInt('envoy.response_flags', flags);
  setIfPresent(record, 'envoy.response_code_details', propString('response', 'code_details'));
  // x-request-id as Envoy used it (kept from the client or generated): joins the span with
  // access logs and with the app's own logs, which often print it.
  setIfPresent(record, 'envoy.request_id', propString('request', 'id'));
  // The downstream connection: a keep-alive client's consecutive requests share it.
  const connection = propInt('connection', 'id', 0);
  if (connection != 0) record.setInt('envoy.connection_id', connection);
  // Enrichment from ext_proc (metadata mode) after the filter's own facts, which win on a clash.
  addDynamicMetadata(record);

  const s = record.httpStatus;
  if (s == 0 || s >= 500 || (s >= 400 && record.kind == SpanKind.Client)) record.status = StatusCode.Error;
  if (s == 0) record.setString('error.type', 'no_response');
  else if (record.status == StatusCode.Error) record.setString('error.type', s.toString());
}
