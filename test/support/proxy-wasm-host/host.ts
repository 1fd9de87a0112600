// A small Proxy-Wasm ABI 0.2.1 host on Node's WebAssembly, for fast unit tests of the BUILT
// filter — the TypeScript counterpart of the Go SDK's proxytest. Real Envoy stays the proof;
// this host reproduces the Envoy behaviour a tracing filter depends on, one comment per quirk.
//
// Ownership, as in Envoy:
//   VM (one instance of the .wasm; `vm_config` of envoy.filters.http.wasm)
//    └─ root context (id 1; one per plugin `config` — receives on_vm_start, on_configure,
//       │            on_tick, on_queue_ready and every http_call response)
//       └─ HTTP stream contexts (ids 2, 3, …; one per request through the filter chain)
//
// Usage:
//   const host = await ProxyWasmHost.load(wasmPath, { configuration: {...} });
//   host.startPlugin();                         // → on_configure's bool
//   const s = host.newHttpStream();
//   s.callOnRequestHeaders({ ':path': '/' }, false);
//   s.currentRequestHeaders();
//   s.complete();                               // on_log, on_done, on_delete
import { readFileSync } from 'node:fs';
import {
  BUFFER_TYPE_MAX,
  BufferType,
  FilterHeadersStatus,
  HEADER_MAP_TYPE_MAX,
  HeaderMapType,
  LOG_LEVEL_NAMES,
  LogLevel,
  type LogLevelName,
  METRIC_TYPE_NAMES,
  MetricType,
  type MetricTypeName,
  STREAM_TYPE_MAX,
  StreamType,
  WasiErrno,
  WasmResult,
} from './abi.ts';
import { type Clock, FakeClock, type RandomSource, seededRandom } from './determinism.ts';
import { decodePairs, encodePairs, type HeaderPair, HeaderMap, type HeadersInput, toPairs } from './header-map.ts';
import { ABI_MARKER, GUEST_EXPORTS, HOST_IMPORTS, OTHER_ABI_MARKERS } from './signatures.ts';
import { readSignatures, sameSig, sigText } from './wasm-signatures.ts';

export type PropertyValue = string | number | bigint | boolean | Uint8Array;

export interface HostOptions {
  /** Plugin configuration (`config.configuration`): a JSON string, or an object to stringify. */
  configuration?: string | object;
  /** VM configuration (`vm_config.configuration`), passed to on_vm_start. */
  vmConfiguration?: string;
  rootId?: string;
  vmId?: string;
  pluginName?: string;
  /** What proxy_get_log_level reports and the lowest level kept by logs(). Default trace. */
  logLevel?: LogLevelName;
  /** Source for WASI random_get. Default: seededRandom(1) — deterministic. */
  random?: RandomSource;
  /** Source for clock_time_get / proxy_get_current_time_nanoseconds. Default: a FakeClock. */
  clock?: Clock;
  /** Properties readable through proxy_get_property, by dotted path ('request.path'). */
  properties?: Record<string, PropertyValue>;
  /** Clusters http_call may target; unknown ones get BadArgument like Envoy. Default: any. */
  clusters?: string[];
  /** `vm_config.environment_variables` seen through WASI environ_get. */
  env?: Record<string, string>;
  /**
   * Shared data (proxy_get/set_shared_data). Default: a store of this host's own. Give several
   * hosts one store to model one Envoy process: the plugins of its listeners (an inbound and an
   * outbound filter) or its worker threads' VMs, which all see the same values.
   */
  sharedData?: SharedDataStore;
}

/**
 * Envoy's shared data: one key-value store per process, partitioned by vm_id, each value with a
 * CAS token. Tokens are process-wide and never 0 (0 in a set means "unconditionally").
 */
export class SharedDataStore {
  private entries = new Map<string, { value: Uint8Array; cas: number }>();
  private nextCas = 1;

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.entries.get(`${vmId}\0${key}`);
  }

  /** False on a CAS mismatch (the value changed since `cas` was read). */
  set(vmId: string, key: string, value: Uint8Array, cas: number): boolean {
    const k = `${vmId}\0${key}`;
    const entry = this.entries.get(k);
    if (entry && cas !== 0 && cas >>> 0 !== entry.cas) return false;
    const token = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    this.entries.set(k, { value: value.slice(), cas: token });
    return true;
  }
}

export interface LogEntry {
  level: LogLevelName;
  message: string;
  contextId: number;
}

export interface MetricSnapshot {
  type: MetricTypeName;
  value: number;
  /** Recorded values (histograms only; the last 10,000). */
  samples?: number[];
}

export interface HttpCallRecord {
  token: number;
  upstream: string;
  headers: HeaderPair[];
  body: Uint8Array;
  trailers: HeaderPair[];
  timeoutMs: number;
  contextId: number;
}

export interface HttpCallResponse {
  headers?: HeadersInput;
  body?: string | Uint8Array;
  trailers?: HeadersInput;
}

export interface LocalResponse {
  status: number;
  details: string;
  body: string;
  headers: HeaderPair[];
  grpcStatus: number;
}

/** The guest trapped (abort, unreachable, out-of-bounds): Envoy would mark the VM failed. */
export class GuestTrapError extends Error {
  constructor(
    readonly exportName: string,
    override readonly cause: unknown,
    recentLogs: LogEntry[],
  ) {
    const tail = recentLogs
      .slice(-5)
      .map((l) => `  [${l.level}] ${l.message}`)
      .join('\n');
    super(
      `Wasm trap in ${exportName}: ${(cause as Error)?.message ?? String(cause)}${tail ? `\nlast logs:\n${tail}` : ''}`,
    );
    this.name = 'GuestTrapError';
  }
}

export class MissingWasmError extends Error {
  constructor(path: string) {
    super(`Wasm module not found at ${path}. Run \`npm run build:wasm\` (or \`npm run setup\`) to build it.`);
    this.name = 'MissingWasmError';
  }
}

type GuestFn = (...args: (number | bigint)[]) => number | undefined;

interface Context {
  id: number;
  parentId: number;
  stream?: HttpStream;
}

interface Metric {
  type: MetricTypeName;
  name: string;
  value: bigint;
  samples: number[];
}

const MAX_LOGS = 10_000;
const MAX_SAMPLES = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const bytesOf = (v: string | Uint8Array | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : typeof v === 'string' ? encoder.encode(v) : v;

/** Property path as the ABI carries it: segments separated by NUL ('request\0path'). */
const propertyKey = (path: string | string[]): string => (Array.isArray(path) ? path : path.split('.')).join('\0');

function encodeProperty(v: PropertyValue): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return encoder.encode(v);
  if (typeof v === 'boolean') return Uint8Array.of(v ? 1 : 0);
  // Envoy serialises int64/uint64/timestamps/durations as 8 little-endian bytes.
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(v), true);
  return out;
}

export class ProxyWasmHost {
  readonly rootContextId = 1;
  readonly clock: Clock;
  private instance!: WebAssembly.Instance;
  private memory!: WebAssembly.Memory;
  private guest: Record<string, GuestFn> = {};
  private contexts = new Map<number, Context>();
  private nextContextId = 1;
  private current: Context | undefined;
  private effectiveId = 0;
  private depth = 0;
  private failed: GuestTrapError | undefined;
  private inConfigure = false;
  private callResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | undefined;
  private status: { code: number; message: string } = { code: 0, message: '' };
  private logEntries: LogEntry[] = [];
  private metricsByName = new Map<string, Metric>();
  private metricIds = new Map<number, Metric>();
  private nextMetricSeq = [0, 0, 0];
  private httpCalls = new Map<number, HttpCallRecord>();
  private nextHttpCallToken = 1;
  private shared: SharedDataStore;
  private queues = new Map<number, { vmId: string; name: string; contextId: number; items: Uint8Array[] }>();
  private nextQueueToken = 1;
  private readyQueue: { contextId: number; token: number }[] = [];
  private tickMs = 0;
  private pendingRootDelete = false;
  private calls = new Map<string, number>();
  private random: RandomSource;
  private readonly options: HostOptions;
  private readonly logLevel: number;
  private readonly plugin: Uint8Array;
  private started = false;
  private configured = false;

  private constructor(options: HostOptions) {
    this.options = options;
    this.random = options.random ?? seededRandom(1);
    this.shared = options.sharedData ?? new SharedDataStore();
    this.clock = options.clock ?? new FakeClock();
    this.logLevel = LogLevel[options.logLevel ?? 'trace'];
    const cfg = options.configuration;
    this.plugin = encoder.encode(cfg === undefined ? '' : typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  }

  /**
   * Compiles and instantiates a .wasm (a path or the bytes). Fails like Envoy when the module
   * lacks the ABI marker, imports something this host does not provide (naming it), or exports
   * a callback with the wrong signature.
   */
  static async load(wasm: string | Uint8Array, options: HostOptions = {}): Promise<ProxyWasmHost> {
    let bytes: Uint8Array;
    if (typeof wasm === 'string') {
      try {
        bytes = readFileSync(wasm);
      } catch {
        throw new MissingWasmError(wasm);
      }
    } else bytes = wasm;
    const host = new ProxyWasmHost(options);
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    host.checkModule(bytes);
    host.instance = await WebAssembly.instantiate(module, host.importObject());
    const memory = host.instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('Wasm module does not export its memory as "memory"');
    host.memory = memory;
    for (const [name, value] of Object.entries(host.instance.exports)) {
      if (typeof value === 'function') host.guest[name] = value as GuestFn;
    }
    return host;
  }

  private checkModule(bytes: Uint8Array): void {
    const sigs = readSignatures(bytes);
    // Envoy (proxy-wasm-cpp-host) picks the ABI from an exported marker function.
    if (!sigs.exports.has(ABI_MARKER)) {
      const other = OTHER_ABI_MARKERS.find((m) => sigs.exports.has(m));
      throw new Error(
        other
          ? `Wasm module exports ${other}; this host implements only Proxy-Wasm ABI 0.2.1 (${ABI_MARKER})`
          : 'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_* export)',
      );
    }
    for (const imp of sigs.imports) {
      const want = HOST_IMPORTS[imp.module]?.[imp.name];
      if (imp.kind !== 'function' || want === undefined) {
        // Same wording as proxy-wasm-cpp-host's V8 runtime.
        throw new Error(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
      }
      if (!sameSig(want, imp.sig)) {
        throw new Error(
          `Failed to load Wasm module due to an import type mismatch for ${imp.module}.${imp.name}, want: ${sigText(imp.sig)}, but host exports: ${sigText(want)}`,
        );
      }
    }
    for (const [name, want] of Object.entries(GUEST_EXPORTS)) {
      const got = sigs.exports.get(name);
      if (got && (got.kind !== 'function' || !sameSig(want, got.sig))) {
        throw new Error(
          `Bad function signature for: ${name} (module has ${sigText(got.sig)}, ABI wants ${sigText(want)})`,
        );
      }
    }
    if (!sigs.exports.has('proxy_on_memory_allocate') && !sigs.exports.has('malloc')) {
      throw new Error('Wasm module exports neither proxy_on_memory_allocate nor malloc: the host cannot return data');
    }
  }

  // ---------------------------------------------------------------- plugin lifecycle

  /**
   * Envoy's start sequence: _initialize (reactor) or _start, proxy_on_context_create(root, 0),
   * proxy_on_vm_start, proxy_on_configure. Returns on_configure's verdict (false when on_vm_start
   * refused, which Envoy also treats as a failed plugin).
   */
  startPlugin(): boolean {
    if (this.started) throw new Error('startPlugin() called twice');
    this.started = true;
    if (this.guest._initialize) this.callGuest('_initialize', undefined);
    else if (this.guest._start) this.callGuest('_start', undefined);
    const root: Context = { id: this.allocContextId(), parentId: 0 };
    this.contexts.set(root.id, root);
    this.callGuest('proxy_on_context_create', root, root.id, 0);
    const vmConfig = bytesOf(this.options.vmConfiguration);
    if (this.callGuest('proxy_on_vm_start', root, root.id, vmConfig.length) === 0) return false;
    // Envoy quirk: the plugin configuration buffer exists only while on_configure runs
    // (Context::temp_plugin_); reading it later is NotFound.
    this.inConfigure = true;
    try {
      this.configured = this.callGuest('proxy_on_configure', root, root.id, this.plugin.length) !== 0;
      return this.configured;
    } finally {
      this.inConfigure = false;
    }
  }

  /** A stream through the filter. Like Envoy, none exists for a plugin that refused its configuration. */
  newHttpStream(): HttpStream {
    this.requireStarted();
    if (!this.configured) throw new Error('the plugin refused its configuration (or on_vm_start failed): no streams');
    const ctx: Context = { id: this.allocContextId(), parentId: this.rootContextId };
    ctx.stream = new HttpStream(this, ctx.id);
    this.contexts.set(ctx.id, ctx);
    this.callGuest('proxy_on_context_create', ctx, ctx.id, this.rootContextId);
    return ctx.stream;
  }

  /** Fires proxy_on_tick when the plugin set a tick period; returns whether it fired. */
  tick(): boolean {
    this.requireStarted();
    if (this.tickMs <= 0) return false;
    this.callGuest('proxy_on_tick', this.root(), this.rootContextId);
    return true;
  }

  get tickPeriodMs(): number {
    return this.tickMs;
  }

  /** VM shutdown: on_done on the root; on_delete now, or after the plugin calls proxy_done. */
  shutdown(): void {
    this.requireStarted();
    const root = this.root();
    if (this.callGuest('proxy_on_done', root, root.id) !== 0) this.deleteContext(root);
  }

  // ---------------------------------------------------------------- observations

  logs(minLevel: LogLevelName = 'trace'): LogEntry[] {
    return this.logEntries.filter((l) => LogLevel[l.level] >= LogLevel[minLevel]);
  }

  logMessages(minLevel: LogLevelName = 'trace'): string[] {
    return this.logs(minLevel).map((l) => l.message);
  }

  clearLogs(): void {
    this.logEntries = [];
  }

  metrics(): Record<string, MetricSnapshot> {
    const out: Record<string, MetricSnapshot> = {};
    for (const m of this.metricsByName.values()) {
      out[m.name] = {
        type: m.type,
        value: Number(m.value),
        ...(m.type === 'histogram' ? { samples: [...m.samples] } : {}),
      };
    }
    return out;
  }

  /** Value of one metric by name, or undefined when the plugin never defined it. */
  metric(name: string): number | undefined {
    const m = this.metricsByName.get(name);
    return m === undefined ? undefined : Number(m.value);
  }

  pendingHttpCalls(): HttpCallRecord[] {
    return [...this.httpCalls.values()];
  }

  /** Delivers a response to an outstanding http_call (Envoy: AsyncClient onSuccess). */
  respondToHttpCall(token: number, response: HttpCallResponse = {}): void {
    const call = this.takeHttpCall(token);
    const headers = new HeaderMap(response.headers ?? { ':status': '200' });
    const trailers = new HeaderMap(response.trailers ?? []);
    const body = bytesOf(response.body);
    this.status = { code: WasmResult.Ok, message: '' };
    this.deliverHttpCall(call, { headers, body, trailers });
  }

  /**
   * Fails an outstanding http_call (Envoy: onFailure). The plugin sees on_http_call_response with
   * no headers, body or trailers, and proxy_get_status returns BrokenConnection, "reset".
   */
  failHttpCall(token: number): void {
    const call = this.takeHttpCall(token);
    this.status = { code: WasmResult.BrokenConnection, message: 'reset' };
    this.deliverHttpCall(call, undefined);
  }

  sharedData(key: string): { value: Uint8Array; cas: number } | undefined {
    return this.shared.get(this.vmId, key);
  }

  /** Items waiting in a shared queue registered by the plugin (not dequeued). */
  sharedQueueItems(name: string, vmId = this.vmId): Uint8Array[] {
    for (const q of this.queues.values()) if (q.vmId === vmId && q.name === name) return [...q.items];
    return [];
  }

  /** Enqueue from outside (another VM); fires on_queue_ready on the registering context. */
  enqueueSharedQueue(name: string, data: string | Uint8Array, vmId = this.vmId): void {
    for (const [token, q] of this.queues) {
      if (q.vmId === vmId && q.name === name) {
        q.items.push(bytesOf(data));
        this.readyQueue.push({ contextId: q.contextId, token });
        this.flushQueueReady();
        return;
      }
    }
    throw new Error(`no shared queue '${name}' registered in vm '${vmId}'`);
  }

  /** How often the guest called each host function so far (a filter's chattiness across the VM boundary). */
  hostCalls(): Record<string, number> {
    return Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Bytes of linear memory now; grows only when the guest allocates beyond it. */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  readMemory(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len).slice();
  }

  /** Number of live contexts (root + streams not yet deleted). */
  liveContexts(): number {
    return this.contexts.size;
  }

  get vmId(): string {
    return this.options.vmId ?? 'meshtrace';
  }

  // ---------------------------------------------------------------- internals used by HttpStream

  /** @internal */
  streamCall(stream: HttpStream, exportName: string, ...args: number[]): number {
    const ctx = this.contexts.get(stream.contextId);
    if (!ctx) throw new Error(`stream ${stream.contextId} was already completed`);
    return this.callGuest(exportName, ctx, stream.contextId, ...args) ?? 0;
  }

  /** @internal */
  completeStream(stream: HttpStream): void {
    const ctx = this.contexts.get(stream.contextId);
    if (!ctx) throw new Error(`stream ${stream.contextId} was already completed`);
    // Envoy order (ConnectionManagerImpl::doDeferredStreamDestroy): the access-log pass first
    // (proxy_on_log, with the final header maps readable again), then destroyFilters →
    // Context::onDestroy → proxy_on_done, proxy_on_delete. A stream's on_done result is ignored.
    stream.accessLogPhase = true;
    try {
      this.callGuest('proxy_on_log', ctx, ctx.id);
    } finally {
      stream.accessLogPhase = false;
    }
    this.callGuest('proxy_on_done', ctx, ctx.id);
    this.deleteContext(ctx);
  }

  // ---------------------------------------------------------------- guest calls

  private callGuest(name: string, ctx: Context | undefined, ...args: number[]): number | undefined {
    if (this.failed) throw new Error(`the Wasm VM failed earlier and is unusable: ${this.failed.message}`);
    const fn = this.guest[name];
    // Envoy calls only the callbacks a module exports; a missing one behaves as a no-op.
    if (!fn) return undefined;
    const prev = this.current;
    const prevEffective = this.effectiveId;
    this.current = ctx;
    this.effectiveId = 0;
    this.depth++;
    try {
      return fn(...args);
    } catch (err) {
      if (err instanceof GuestTrapError) throw err;
      this.failed = new GuestTrapError(name, err, this.logEntries);
      throw this.failed;
    } finally {
      this.current = prev;
      this.effectiveId = prevEffective;
      this.depth--;
      if (this.depth === 0) this.afterOutermostCall();
    }
  }

  private allocContextId(): number {
    return this.nextContextId++;
  }

  private root(): Context {
    const r = this.contexts.get(this.rootContextId);
    if (!r) throw new Error('the root context was deleted');
    return r;
  }

  private requireStarted(): void {
    if (!this.started) throw new Error('call host.startPlugin() first');
  }

  private deleteContext(ctx: Context): void {
    this.callGuest('proxy_on_delete', ctx, ctx.id);
    this.contexts.delete(ctx.id);
  }

  private takeHttpCall(token: number): HttpCallRecord {
    const call = this.httpCalls.get(token);
    if (!call) throw new Error(`no pending http_call with token ${token}`);
    this.httpCalls.delete(token);
    return call;
  }

  private deliverHttpCall(
    call: HttpCallRecord,
    response: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | undefined,
  ): void {
    const ctx = this.contexts.get(call.contextId);
    if (!ctx) return; // Envoy cancels a deleted context's requests.
    // Envoy quirk: the response maps and body live on the root context only for the duration
    // of proxy_on_http_call_response.
    this.callResponse = response;
    try {
      this.callGuest(
        'proxy_on_http_call_response',
        ctx,
        ctx.id,
        call.token,
        response?.headers.size ?? 0,
        response?.body.length ?? 0,
        response?.trailers.size ?? 0,
      );
    } finally {
      this.callResponse = undefined;
    }
  }

  private afterOutermostCall(): void {
    this.flushQueueReady();
    if (this.pendingRootDelete) {
      this.pendingRootDelete = false;
      const root = this.contexts.get(this.rootContextId);
      if (root) this.deleteContext(root);
    }
  }

  private flushQueueReady(): void {
    // Envoy posts on_queue_ready to the registering thread's dispatcher; delivering it after the
    // outermost guest call returns keeps it non-reentrant the same way.
    while (this.depth === 0 && this.readyQueue.length > 0) {
      const { contextId, token } = this.readyQueue.shift() as { contextId: number; token: number };
      const ctx = this.contexts.get(contextId);
      if (ctx) this.callGuest('proxy_on_queue_ready', ctx, contextId, token);
    }
  }

  /** The context host calls act on: the one set by proxy_set_effective_context, else the current one. */
  private ctx(): Context | undefined {
    if (this.effectiveId !== 0) {
      const eff = this.contexts.get(this.effectiveId);
      if (eff) return eff;
    }
    return this.current;
  }

  // ---------------------------------------------------------------- memory

  private u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private read(ptr: number, len: number): Uint8Array | undefined {
    const mem = this.u8();
    if (ptr < 0 || len < 0 || ptr + len > mem.length) return undefined;
    return mem.subarray(ptr, ptr + len);
  }

  private readString(ptr: number, len: number): string | undefined {
    const b = this.read(ptr, len);
    return b === undefined ? undefined : decoder.decode(b);
  }

  private setU32(ptr: number, v: number): boolean {
    if (ptr < 0 || ptr + 4 > this.memory.buffer.byteLength) return false;
    new DataView(this.memory.buffer).setUint32(ptr, v >>> 0, true);
    return true;
  }

  private setU64(ptr: number, v: bigint): boolean {
    if (ptr < 0 || ptr + 8 > this.memory.buffer.byteLength) return false;
    new DataView(this.memory.buffer).setBigUint64(ptr, BigInt.asUintN(64, v), true);
    return true;
  }

  /**
   * Returns bytes to the guest the way proxy-wasm-cpp-host does (copyToPointerSize): memory
   * from the guest's proxy_on_memory_allocate (or the older `malloc`), then pointer and size
   * written to the two out-params. Envoy quirk: an empty value allocates nothing and writes
   * pointer 0, size 0 — with status Ok, which is how "present but empty" differs from NotFound.
   */
  private copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (bytes.length > 0) {
      const alloc = this.guest.proxy_on_memory_allocate ?? this.guest.malloc;
      ptr = (alloc?.(bytes.length) ?? 0) >>> 0;
      if (ptr === 0 || ptr + bytes.length > this.memory.buffer.byteLength) return false;
      this.u8().set(bytes, ptr); // fresh view: the allocation may have grown memory
    }
    return this.setU32(ptrPtr, ptr) && this.setU32(sizePtr, bytes.length);
  }

  private log(level: number, message: string): void {
    if (level < this.logLevel) return;
    this.logEntries.push({ level: LOG_LEVEL_NAMES[level] ?? 'info', message, contextId: this.ctx()?.id ?? 0 });
    if (this.logEntries.length > MAX_LOGS) this.logEntries.splice(0, this.logEntries.length - MAX_LOGS);
  }

  // ---------------------------------------------------------------- maps and buffers

  /** Mutable map (Envoy Context::getMap); undefined → BadArgument. */
  private mutableMap(type: number): HeaderMap | undefined {
    const s = this.ctx()?.stream;
    if (!s || s.accessLogPhase) return undefined;
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return s.liveRequestHeaders ? s.requestHeaders : undefined;
      case HeaderMapType.RequestTrailers:
        return s.requestTrailers;
      case HeaderMapType.ResponseHeaders:
        return s.liveResponseHeaders ? s.responseHeaders : undefined;
      case HeaderMapType.ResponseTrailers:
        return s.responseTrailers;
      default:
        return undefined;
    }
  }

  /** Readable map (Envoy Context::getConstMap). */
  private constMap(type: number): HeaderMap | undefined {
    if (type === HeaderMapType.HttpCallResponseHeaders) return this.callResponse?.headers;
    if (type === HeaderMapType.HttpCallResponseTrailers) return this.callResponse?.trailers;
    const s = this.ctx()?.stream;
    if (s?.accessLogPhase) {
      if (type === HeaderMapType.RequestHeaders) return s.requestHeaders;
      if (type === HeaderMapType.ResponseHeaders) return s.responseHeaders;
      if (type === HeaderMapType.ResponseTrailers) return s.responseTrailers;
      return undefined;
    }
    return this.mutableMap(type);
  }

  private buffer(type: number): { get(): Uint8Array; set?(b: Uint8Array): void } | undefined {
    const s = this.ctx()?.stream;
    switch (type) {
      case BufferType.HttpRequestBody:
        return s?.requestBody ? { get: () => s.requestBody as Uint8Array, set: (b) => (s.requestBody = b) } : undefined;
      case BufferType.HttpResponseBody:
        return s?.responseBody
          ? { get: () => s.responseBody as Uint8Array, set: (b) => (s.responseBody = b) }
          : undefined;
      case BufferType.HttpCallResponseBody: {
        const r = this.callResponse;
        return r ? { get: () => r.body } : undefined;
      }
      case BufferType.VmConfiguration: {
        const vm = bytesOf(this.options.vmConfiguration);
        return { get: () => vm };
      }
      case BufferType.PluginConfiguration:
        return this.inConfigure ? { get: () => this.plugin } : undefined;
      default:
        return undefined;
    }
  }

  private property(path: string): Uint8Array | undefined {
    const s = this.ctx()?.stream;
    const fromStream = s?.properties.get(path);
    if (fromStream) return fromStream;
    for (const [k, v] of Object.entries(this.options.properties ?? {})) {
      if (propertyKey(k) === path) return encodeProperty(v);
    }
    // Envoy answers these three from the plugin itself (PropertyToken in context.cc).
    if (path === 'plugin_name') return encoder.encode(this.options.pluginName ?? 'meshtrace');
    if (path === 'plugin_root_id') return encoder.encode(this.options.rootId ?? 'meshtrace');
    if (path === 'plugin_vm_id') return encoder.encode(this.vmId);
    return undefined;
  }

  // ---------------------------------------------------------------- metrics

  private defineMetric(type: number, name: string): number {
    const typeName = METRIC_TYPE_NAMES[type] as MetricTypeName;
    // Defining a name again yields a new id for the same stat (Envoy's scope returns the
    // existing counter); the same name with another type is a different stat.
    const existing = this.metricsByName.get(name);
    const key = existing && existing.type !== typeName ? `${name} (${typeName})` : name;
    let m = this.metricsByName.get(key);
    if (!m) {
      m = { type: typeName, name: key, value: 0n, samples: [] };
      this.metricsByName.set(key, m);
    }
    // Envoy quirk: ids carry the type in the low 2 bits and count up by 4 from the type, so the
    // first counter's id is 0 — an SDK that treats 0 as "undefined" breaks in Envoy too.
    const seq = this.nextMetricSeq[type] as number;
    this.nextMetricSeq[type] = seq + 1;
    const id = seq * 4 + type;
    this.metricIds.set(id, m);
    return id;
  }

  // ---------------------------------------------------------------- imports

  private importObject(): WebAssembly.Imports {
    const R = WasmResult;
    const env: Record<string, (...a: never[]) => number | undefined> = {
      proxy_log: (level: number, ptr: number, len: number) => {
        if (level < 0 || level > LogLevel.critical) return R.BadArgument;
        const msg = this.readString(ptr, len);
        if (msg === undefined) return R.InvalidMemoryAccess;
        this.log(level, msg);
        return R.Ok;
      },
      proxy_get_log_level: (retPtr: number) => (this.setU32(retPtr, this.logLevel) ? R.Ok : R.InvalidMemoryAccess),
      proxy_get_current_time_nanoseconds: (retPtr: number) =>
        this.setU64(retPtr, this.clock.realtimeNs()) ? R.Ok : R.InvalidMemoryAccess,
      proxy_set_tick_period_milliseconds: (ms: number) => {
        this.tickMs = ms >>> 0;
        return R.Ok;
      },
      proxy_get_buffer_bytes: (type: number, start: number, maxSize: number, ptrPtr: number, sizePtr: number) => {
        if (type < 0 || type > BUFFER_TYPE_MAX) return R.BadArgument;
        const buf = this.buffer(type);
        if (!buf) return R.NotFound;
        const data = buf.get();
        const from = start >>> 0;
        let len = maxSize >>> 0;
        if (from > data.length) return R.BadArgument;
        if (from + len > data.length) len = data.length - from;
        // Envoy quirk: a zero-length read returns Ok without touching the out-params.
        if (len === 0) return R.Ok;
        return this.copyOut(data.subarray(from, from + len), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_buffer_bytes: (type: number, start: number, length: number, ptr: number, size: number) => {
        if (type < 0 || type > BUFFER_TYPE_MAX) return R.BadArgument;
        const buf = this.buffer(type);
        if (!buf?.set) return R.NotFound;
        const data = this.read(ptr, size);
        if (!data) return R.InvalidMemoryAccess;
        const cur = buf.get();
        // Envoy's Buffer::copyFrom: start 0 drains `length` bytes then prepends; start at or
        // past the end appends; anything else is unsupported.
        if (start === 0) buf.set(Uint8Array.from([...data, ...cur.subarray(Math.min(length >>> 0, cur.length))]));
        else if (start >>> 0 >= cur.length) buf.set(Uint8Array.from([...cur, ...data]));
        else return R.BadArgument;
        return R.Ok;
      },
      proxy_get_buffer_status: (type: number, lenPtr: number, flagsPtr: number) => {
        if (type < 0 || type > BUFFER_TYPE_MAX) return R.BadArgument;
        const buf = this.buffer(type);
        if (!buf) return R.NotFound;
        return this.setU32(lenPtr, buf.get().length) && this.setU32(flagsPtr, 0) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_header_map_pairs: (type: number, ptrPtr: number, sizePtr: number) => {
        if (type < 0 || type > HEADER_MAP_TYPE_MAX) return R.BadArgument;
        const pairs = this.constMap(type)?.pairs() ?? [];
        // Envoy quirk: an absent map is not an error here — it reads as zero pairs; and zero
        // pairs come back as pointer 0, size 0 rather than a 4-byte count of 0.
        return this.copyOut(pairs.length ? encodePairs(pairs) : new Uint8Array(0), ptrPtr, sizePtr)
          ? R.Ok
          : R.InvalidMemoryAccess;
      },
      proxy_set_header_map_pairs: (type: number, ptr: number, size: number) => {
        if (type < 0 || type > HEADER_MAP_TYPE_MAX) return R.BadArgument;
        const data = this.read(ptr, size);
        if (!data) return R.InvalidMemoryAccess;
        const map = this.mutableMap(type);
        if (!map) return R.BadArgument;
        map.setPairs(decodePairs(data));
        return R.Ok;
      },
      proxy_get_header_map_value: (type: number, kPtr: number, kLen: number, ptrPtr: number, sizePtr: number) => {
        if (type < 0 || type > HEADER_MAP_TYPE_MAX) return R.BadArgument;
        const key = this.readString(kPtr, kLen);
        if (key === undefined) return R.InvalidMemoryAccess;
        const map = this.constMap(type);
        // Envoy quirk: an unavailable map is BadArgument, except in the access-log phase where it
        // is NotFound (e.g. response headers of a request that never got a response).
        if (!map) return this.ctx()?.stream?.accessLogPhase ? R.NotFound : R.BadArgument;
        const value = map.get(key);
        if (value === undefined) return R.NotFound;
        return this.copyOut(encoder.encode(value), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_add_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) =>
        this.mutate(type, kPtr, kLen, vPtr, vLen, (m, k, v) => m.add(k, v)),
      proxy_replace_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) =>
        this.mutate(type, kPtr, kLen, vPtr, vLen, (m, k, v) => m.replace(k, v)),
      proxy_remove_header_map_value: (type: number, kPtr: number, kLen: number) =>
        this.mutate(type, kPtr, kLen, 0, 0, (m, k) => m.remove(k)),
      proxy_get_header_map_size: (type: number, retPtr: number) => {
        if (type < 0 || type > HEADER_MAP_TYPE_MAX) return R.BadArgument;
        const map = this.mutableMap(type);
        if (!map) return R.BadArgument;
        return this.setU32(retPtr, map.byteSize()) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_property: (pPtr: number, pLen: number, ptrPtr: number, sizePtr: number) => {
        const raw = this.readString(pPtr, pLen);
        if (raw === undefined) return R.InvalidMemoryAccess;
        const path = raw
          .split('\0')
          .filter((seg, i, all) => seg !== '' || i < all.length - 1)
          .join('\0');
        const value = this.property(path);
        if (value === undefined) return R.NotFound;
        return this.copyOut(value, ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_property: (pPtr: number, pLen: number, vPtr: number, vLen: number) => {
        const raw = this.readString(pPtr, pLen);
        const value = this.read(vPtr, vLen);
        if (raw === undefined || value === undefined) return R.InvalidMemoryAccess;
        const s = this.ctx()?.stream;
        // Envoy stores it as filter state of the request; a root context has no request.
        if (!s) return R.NotFound;
        s.properties.set(raw.split('\0').filter(Boolean).join('\0'), value.slice());
        return R.Ok;
      },
      proxy_continue_stream: (type: number) => this.continueStream(type),
      proxy_continue_request: () => this.continueStream(StreamType.Request),
      proxy_continue_response: () => this.continueStream(StreamType.Response),
      proxy_close_stream: (type: number) => {
        if (type < 0 || type > STREAM_TYPE_MAX) return R.BadArgument;
        const s = this.ctx()?.stream;
        if (s) s.closed.push(type);
        return R.Ok;
      },
      proxy_clear_route_cache: () => R.Ok,
      proxy_send_local_response: (
        status: number,
        dPtr: number,
        dLen: number,
        bPtr: number,
        bLen: number,
        hPtr: number,
        hLen: number,
        grpc: number,
      ) => {
        const details = this.readString(dPtr, dLen);
        const body = this.readString(bPtr, bLen);
        const headers = this.read(hPtr, hLen);
        if (details === undefined || body === undefined || headers === undefined) return R.InvalidMemoryAccess;
        const s = this.ctx()?.stream;
        if (s) {
          // Header keys are lower-cased like every other Envoy header write.
          const pairs = decodePairs(headers).map(([k, v]) => [k.toLowerCase(), v] as HeaderPair);
          s.localResponse = { status, details, body, headers: pairs, grpcStatus: grpc };
          // Envoy quirk: after a local reply the current callback's return is overridden to
          // StopIteration (WasmBase::stopNextIteration).
          s.stopNextIteration = true;
        }
        return R.Ok;
      },
      proxy_http_call: (
        uPtr: number,
        uLen: number,
        hPtr: number,
        hLen: number,
        bPtr: number,
        bLen: number,
        tPtr: number,
        tLen: number,
        timeoutMs: number,
        tokenPtr: number,
      ) => {
        const upstream = this.readString(uPtr, uLen);
        const headers = this.read(hPtr, hLen);
        const body = this.read(bPtr, bLen);
        const trailers = this.read(tPtr, tLen);
        if (upstream === undefined || !headers || !body || !trailers) return R.InvalidMemoryAccess;
        if (!this.setU32(tokenPtr, 0)) return R.InvalidMemoryAccess;
        if (timeoutMs < 0) return R.BadArgument;
        if (this.options.clusters && !this.options.clusters.includes(upstream)) return R.BadArgument;
        const headerPairs = decodePairs(headers);
        const has = (n: string) => headerPairs.some(([k]) => k.toLowerCase() === n);
        // Envoy refuses a callout without :path, :method and :authority.
        if (!has(':path') || !has(':method') || !has(':authority')) return R.BadArgument;
        const token = this.nextHttpCallToken++;
        // Envoy runs http_call on the root context (exports.cc: WASM_CONTEXT(...)->root_context()),
        // so the response arrives on the root context whichever stream asked.
        this.httpCalls.set(token, {
          token,
          upstream,
          headers: headerPairs,
          body: body.slice(),
          trailers: decodePairs(trailers),
          timeoutMs,
          contextId: this.rootContextId,
        });
        this.setU32(tokenPtr, token);
        return R.Ok;
      },
      proxy_get_status: (codePtr: number, ptrPtr: number, sizePtr: number) =>
        this.setU32(codePtr, this.status.code) && this.copyOut(encoder.encode(this.status.message), ptrPtr, sizePtr)
          ? R.Ok
          : R.InvalidMemoryAccess,
      proxy_get_shared_data: (kPtr: number, kLen: number, ptrPtr: number, sizePtr: number, casPtr: number) => {
        const key = this.readString(kPtr, kLen);
        if (key === undefined) return R.InvalidMemoryAccess;
        const entry = this.shared.get(this.vmId, key);
        if (!entry) return R.NotFound;
        return this.copyOut(entry.value, ptrPtr, sizePtr) && this.setU32(casPtr, entry.cas)
          ? R.Ok
          : R.InvalidMemoryAccess;
      },
      proxy_set_shared_data: (kPtr: number, kLen: number, vPtr: number, vLen: number, cas: number) => {
        const key = this.readString(kPtr, kLen);
        const value = this.read(vPtr, vLen);
        if (key === undefined || !value) return R.InvalidMemoryAccess;
        // cas 0 always writes; any other cas must match the stored one.
        return this.shared.set(this.vmId, key, value, cas) ? R.Ok : R.CasMismatch;
      },
      proxy_register_shared_queue: (nPtr: number, nLen: number, tokenPtr: number) => {
        const name = this.readString(nPtr, nLen);
        if (name === undefined) return R.InvalidMemoryAccess;
        const contextId = this.ctx()?.id ?? this.rootContextId;
        let token = this.findQueue(this.vmId, name);
        if (token === undefined) {
          token = this.nextQueueToken++;
          this.queues.set(token, { vmId: this.vmId, name, contextId, items: [] });
        } else {
          // Re-registering rebinds the queue to the caller, as in cpp-host.
          (this.queues.get(token) as { contextId: number }).contextId = contextId;
        }
        return this.setU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_resolve_shared_queue: (vPtr: number, vLen: number, nPtr: number, nLen: number, tokenPtr: number) => {
        const vmId = this.readString(vPtr, vLen);
        const name = this.readString(nPtr, nLen);
        if (vmId === undefined || name === undefined) return R.InvalidMemoryAccess;
        const token = this.findQueue(vmId, name);
        if (token === undefined) return R.NotFound;
        return this.setU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_enqueue_shared_queue: (token: number, vPtr: number, vLen: number) => {
        const value = this.read(vPtr, vLen);
        if (!value) return R.InvalidMemoryAccess;
        const q = this.queues.get(token >>> 0);
        if (!q) return R.NotFound;
        q.items.push(value.slice());
        this.readyQueue.push({ contextId: q.contextId, token: token >>> 0 });
        return R.Ok;
      },
      proxy_dequeue_shared_queue: (token: number, ptrPtr: number, sizePtr: number) => {
        const q = this.queues.get(token >>> 0);
        if (!q) return R.NotFound;
        const item = q.items.shift();
        if (item === undefined) return R.Empty;
        return this.copyOut(item, ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_define_metric: (type: number, nPtr: number, nLen: number, idPtr: number) => {
        if (type < 0 || type > MetricType.Histogram) return R.BadArgument;
        const name = this.readString(nPtr, nLen);
        if (name === undefined) return R.InvalidMemoryAccess;
        return this.setU32(idPtr, this.defineMetric(type, name)) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        const m = this.metricIds.get(id >>> 0);
        if (!m) return (id & 3) === MetricType.Histogram ? R.BadArgument : R.NotFound;
        if (m.type === 'counter') {
          // Envoy: counters only go up; a zero or negative offset is BadArgument.
          if (offset <= 0n) return R.BadArgument;
          m.value += offset;
          return R.Ok;
        }
        if (m.type === 'gauge') {
          m.value += offset;
          return R.Ok;
        }
        return R.BadArgument;
      },
      proxy_record_metric: (id: number, value: bigint) => {
        const m = this.metricIds.get(id >>> 0);
        if (!m) return R.NotFound;
        const v = BigInt.asUintN(64, value);
        // Envoy: record on a counter adds, on a gauge sets, on a histogram records a sample.
        if (m.type === 'counter') m.value += v;
        else if (m.type === 'gauge') m.value = v;
        else {
          m.value += 1n;
          m.samples.push(Number(v));
          if (m.samples.length > MAX_SAMPLES) m.samples.shift();
        }
        return R.Ok;
      },
      proxy_get_metric: (id: number, retPtr: number) => {
        if ((id & 3) === MetricType.Histogram) return R.BadArgument;
        const m = this.metricIds.get(id >>> 0);
        if (!m) return R.NotFound;
        return this.setU64(retPtr, m.value) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_effective_context: (id: number) => {
        if (!this.contexts.has(id >>> 0)) return R.BadArgument;
        this.effectiveId = id >>> 0;
        return R.Ok;
      },
      proxy_done: () => {
        const c = this.ctx();
        // The deferred shutdown of a root context whose on_done returned false: delete it once
        // the current guest call has returned.
        if (c && c.id === this.rootContextId && this.contexts.has(c.id)) {
          this.pendingRootDelete = true;
          return R.Ok;
        }
        return R.NotFound;
      },
    };
    const wasi: Record<string, (...a: never[]) => number | undefined> = {
      random_get: (ptr: number, len: number) => {
        if (ptr < 0 || ptr + len > this.memory.buffer.byteLength) return WasiErrno.Fault;
        this.u8().set(this.random(len), ptr);
        return WasiErrno.Success;
      },
      clock_time_get: (clockId: number, _precision: bigint, retPtr: number) => {
        // cpp-host serves realtime (0) and monotonic (1); the CPU-time clocks are ENOTSUP.
        let t: bigint;
        if (clockId === 0) t = this.clock.realtimeNs();
        else if (clockId === 1) t = this.clock.monotonicNs();
        else return WasiErrno.Notsup;
        return this.setU64(retPtr, t) ? WasiErrno.Success : WasiErrno.Fault;
      },
      fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
        // cpp-host routes stdout to the info log and stderr to the error log, minus one
        // trailing newline; other descriptors are EBADF.
        if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
        const parts: Uint8Array[] = [];
        for (let i = 0; i < iovsLen; i++) {
          const iov = this.read(iovs + i * 8, 8);
          if (!iov) return WasiErrno.Fault;
          const dv = new DataView(iov.buffer, iov.byteOffset, 8);
          const buf = this.read(dv.getUint32(0, true), dv.getUint32(4, true));
          if (!buf) return WasiErrno.Fault;
          parts.push(buf.slice());
        }
        let text = decoder.decode(Buffer.concat(parts));
        const written = parts.reduce((n, p) => n + p.length, 0);
        if (text.endsWith('\n')) text = text.slice(0, -1);
        if (written > 0) this.log(fd === 1 ? LogLevel.info : LogLevel.error, text);
        return this.setU32(nwrittenPtr, written) ? WasiErrno.Success : WasiErrno.Fault;
      },
      proc_exit: (code: number) => {
        throw new Error(`the module called WASI proc_exit(${code})`);
      },
      environ_sizes_get: (countPtr: number, sizePtr: number) => {
        const env = this.envStrings();
        const size = env.reduce((n, e) => n + e.length, 0);
        return this.setU32(countPtr, env.length) && this.setU32(sizePtr, size) ? WasiErrno.Success : WasiErrno.Fault;
      },
      environ_get: (arrayPtr: number, bufPtr: number) => {
        let p = bufPtr;
        for (const [i, e] of this.envStrings().entries()) {
          if (!this.setU32(arrayPtr + i * 4, p)) return WasiErrno.Fault;
          if (p + e.length > this.memory.buffer.byteLength) return WasiErrno.Fault;
          this.u8().set(e, p);
          p += e.length;
        }
        return WasiErrno.Success;
      },
      args_sizes_get: (argcPtr: number, sizePtr: number) =>
        this.setU32(argcPtr, 0) && this.setU32(sizePtr, 0) ? WasiErrno.Success : WasiErrno.Fault,
      args_get: () => WasiErrno.Success,
    };
    const counted = (fns: Record<string, (...a: never[]) => number | undefined>) =>
      Object.fromEntries(
        Object.entries(fns).map(([name, fn]) => [
          name,
          (...a: never[]) => {
            this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
            return fn(...a);
          },
        ]),
      );
    return {
      env: counted(env) as unknown as WebAssembly.ModuleImports,
      wasi_snapshot_preview1: counted(wasi) as unknown as WebAssembly.ModuleImports,
    };
  }

  private envStrings(): Uint8Array[] {
    return Object.entries(this.options.env ?? {}).map(([k, v]) => encoder.encode(`${k}=${v}\0`));
  }

  private findQueue(vmId: string, name: string): number | undefined {
    for (const [token, q] of this.queues) if (q.vmId === vmId && q.name === name) return token;
    return undefined;
  }

  private mutate(
    type: number,
    kPtr: number,
    kLen: number,
    vPtr: number,
    vLen: number,
    op: (m: HeaderMap, k: string, v: string) => void,
  ): number {
    if (type < 0 || type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
    const key = this.readString(kPtr, kLen);
    const value = this.readString(vPtr, vLen);
    if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
    const map = this.mutableMap(type);
    if (!map) return WasmResult.BadArgument;
    op(map, key, value);
    return WasmResult.Ok;
  }

  private continueStream(type: number): number {
    if (type < 0 || type > STREAM_TYPE_MAX) return WasmResult.BadArgument;
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    const s = this.ctx()?.stream;
    if (s) {
      s.continued.push(type);
      // Envoy quirk (Context::continueStream): resuming the request drops the filter's handle
      // on the request headers, so later reads of them are BadArgument.
      if (type === StreamType.Request) s.liveRequestHeaders = false;
    }
    return WasmResult.Ok;
  }
}

/** One HTTP stream through the filter: per-stream state plus Go-proxytest-style helpers. */
export class HttpStream {
  requestHeaders: HeaderMap | undefined;
  requestTrailers: HeaderMap | undefined;
  responseHeaders: HeaderMap | undefined;
  responseTrailers: HeaderMap | undefined;
  requestBody: Uint8Array | undefined;
  responseBody: Uint8Array | undefined;
  /** Properties of this request (set by the test or by the plugin through proxy_set_property). */
  readonly properties = new Map<string, Uint8Array>();
  localResponse: LocalResponse | undefined;
  /** Stream types passed to proxy_continue_stream / proxy_close_stream, in order. */
  readonly continued: number[] = [];
  readonly closed: number[] = [];
  /** Return value of the last proxy_on_* call. */
  lastAction: number | undefined;
  /** @internal */ liveRequestHeaders = false;
  /** @internal */ liveResponseHeaders = false;
  /** @internal */ accessLogPhase = false;
  /** @internal */ stopNextIteration = false;
  private completed = false;

  constructor(
    private readonly host: ProxyWasmHost,
    readonly contextId: number,
  ) {}

  /**
   * proxy_on_request_headers. Envoy's HTTP/1 codec lower-cases names and presents pseudo-headers
   * (:method, :path, :authority, :scheme) first; pass them when the filter reads them.
   */
  callOnRequestHeaders(headers: HeadersInput, endOfStream = false): number {
    this.requestHeaders = new HeaderMap(headers);
    this.liveRequestHeaders = true;
    const action = this.run('proxy_on_request_headers', this.requestHeaders.size, endOfStream ? 1 : 0);
    // Envoy quirk (Context::decodeHeaders): once the filter continues, Envoy forgets the map —
    // request headers are not readable from later callbacks except on_log.
    if (action === FilterHeadersStatus.Continue) this.liveRequestHeaders = false;
    return action;
  }

  callOnRequestBody(body: string | Uint8Array, endOfStream = true): number {
    this.requestBody = bytesOf(body);
    return this.run('proxy_on_request_body', this.requestBody.length, endOfStream ? 1 : 0);
  }

  callOnRequestTrailers(trailers: HeadersInput): number {
    this.requestTrailers = new HeaderMap(trailers);
    return this.run('proxy_on_request_trailers', this.requestTrailers.size);
  }

  /** proxy_on_response_headers; include ':status' as Envoy does. */
  callOnResponseHeaders(headers: HeadersInput, endOfStream = false): number {
    this.responseHeaders = new HeaderMap(headers);
    this.liveResponseHeaders = true;
    const action = this.run('proxy_on_response_headers', this.responseHeaders.size, endOfStream ? 1 : 0);
    if (action === FilterHeadersStatus.Continue) this.liveResponseHeaders = false;
    return action;
  }

  callOnResponseBody(body: string | Uint8Array, endOfStream = true): number {
    this.responseBody = bytesOf(body);
    return this.run('proxy_on_response_body', this.responseBody.length, endOfStream ? 1 : 0);
  }

  callOnResponseTrailers(trailers: HeadersInput): number {
    this.responseTrailers = new HeaderMap(trailers);
    return this.run('proxy_on_response_trailers', this.responseTrailers.size);
  }

  /** End of stream: proxy_on_log, proxy_on_done, proxy_on_delete (Envoy's order). */
  complete(): void {
    if (this.completed) throw new Error(`stream ${this.contextId} completed twice`);
    this.completed = true;
    this.host.completeStream(this);
  }

  /** Request headers as they would leave Envoy (after the filter's changes). */
  currentRequestHeaders(): HeaderPair[] {
    return this.requestHeaders?.pairs() ?? [];
  }

  currentResponseHeaders(): HeaderPair[] {
    return this.responseHeaders?.pairs() ?? [];
  }

  currentRequestBody(): string {
    return decoder.decode(this.requestBody ?? new Uint8Array(0));
  }

  currentResponseBody(): string {
    return decoder.decode(this.responseBody ?? new Uint8Array(0));
  }

  /** First value of a request header (what the upstream's usual parser would see). */
  requestHeader(name: string): string | undefined {
    return this.requestHeaders?.get(name);
  }

  responseHeader(name: string): string | undefined {
    return this.responseHeaders?.get(name);
  }

  setProperty(path: string | string[], value: PropertyValue): void {
    this.properties.set(propertyKey(path), encodeProperty(value));
  }

  private run(exportName: string, ...args: number[]): number {
    this.stopNextIteration = false;
    let action = this.host.streamCall(this, exportName, ...args);
    if (this.stopNextIteration) action = FilterHeadersStatus.StopIteration;
    this.lastAction = action;
    return action;
  }
}

export { toPairs };
