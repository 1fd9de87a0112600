// Tests of the TypeScript Proxy-Wasm host's per-context state, against tiny guests assembled from
// bytes: properties, body buffers, pausing and resuming a stream from another context
// (set_effective_context + continue_stream), WASI output and environment, and deferred shutdown.
import test from 'ava';
import { WasmResult } from '../support/proxy-wasm-host/abi.ts';
import { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';
import { op, proxyGuest } from '../support/proxy-wasm-host/module-builder.ts';
import { GUEST_EXPORTS, HOST_IMPORTS } from '../support/proxy-wasm-host/signatures.ts';

const SIGS = { imports: HOST_IMPORTS, exports: GUEST_EXPORTS };
const guest = (imports: string[], setup: Parameters<typeof proxyGuest>[1]) => proxyGuest(imports, setup, SIGS);
const u32 = (host: ProxyWasmHost, ptr: number) => new DataView(host.readMemory(ptr, 4).buffer).getUint32(0, true);
const text = (host: ProxyWasmHost, ptrAt: number) =>
  Buffer.from(host.readMemory(u32(host, ptrAt), u32(host, ptrAt + 4))).toString('utf8');
const storeStatus = (slot: number, call: number[][]) => [op.i32(slot), ...call, op.i32Store()];
type Data = { ptr: number; len: number };

test('properties: plugin ones from the host, request ones per stream, writes readable back', async (t) => {
  const wasm = guest(['proxy_get_property', 'proxy_set_property'], (f, b) => {
    const rootId = b.dataAt(1000, 'plugin_root_id');
    const path = b.dataAt(1020, 'request\0path');
    const mine = b.dataAt(1040, 'meshtrace\0span_id');
    const value = b.dataAt(1060, 'a1b2');
    const missing = b.dataAt(1080, 'no\0such');
    const get = (slot: number, p: Data) =>
      storeStatus(slot, [
        op.i32(p.ptr),
        op.i32(p.len),
        op.i32(slot + 4),
        op.i32(slot + 8),
        op.call(f.proxy_get_property as number),
      ]);
    const set = (slot: number, p: Data) =>
      storeStatus(slot, [
        op.i32(p.ptr),
        op.i32(p.len),
        op.i32(value.ptr),
        op.i32(value.len),
        op.call(f.proxy_set_property as number),
      ]);
    return {
      proxy_on_configure: [...set(200, mine), op.i32(1)],
      proxy_on_request_headers: [
        ...get(300, rootId),
        ...get(312, path),
        ...set(324, mine),
        ...get(336, mine),
        ...get(348, missing),
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm, { rootId: 'tracer' });
  host.startPlugin();
  t.is(u32(host, 200), WasmResult.NotFound, 'a root context has no request to hold properties');
  const s = host.newHttpStream();
  s.setProperty('request.path', '/orders/42');
  s.callOnRequestHeaders({});
  t.is(text(host, 304), 'tracer');
  t.is(text(host, 316), '/orders/42');
  t.is(u32(host, 324), WasmResult.Ok);
  t.is(text(host, 340), 'a1b2');
  t.is(u32(host, 348), WasmResult.NotFound);
  t.deepEqual(Buffer.from(s.properties.get('meshtrace\0span_id') ?? []).toString(), 'a1b2');
});

test('request body: read it, then replace its first bytes (Envoy copyFrom semantics)', async (t) => {
  const wasm = guest(['proxy_get_buffer_bytes', 'proxy_set_buffer_bytes'], (f, b) => {
    const patch = b.dataAt(1000, 'HELLO');
    return {
      proxy_on_request_body: [
        op.i32(0),
        op.i32(0),
        op.localGet(1),
        op.i32(400),
        op.i32(404),
        op.call(f.proxy_get_buffer_bytes as number),
        op.drop,
        ...storeStatus(408, [
          op.i32(0),
          op.i32(0),
          op.i32(5),
          op.i32(patch.ptr),
          op.i32(patch.len),
          op.call(f.proxy_set_buffer_bytes as number),
        ]),
        // start inside the buffer (not 0, not at the end) is refused
        ...storeStatus(412, [
          op.i32(0),
          op.i32(2),
          op.i32(1),
          op.i32(patch.ptr),
          op.i32(1),
          op.call(f.proxy_set_buffer_bytes as number),
        ]),
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  s.callOnRequestHeaders({ ':path': '/' });
  s.callOnRequestBody('hello world', true);
  t.is(text(host, 400), 'hello world');
  t.is(u32(host, 408), WasmResult.Ok);
  t.is(u32(host, 412), WasmResult.BadArgument);
  t.is(s.currentRequestBody(), 'HELLO world');
});

test('a paused stream is changed and resumed from the root context via set_effective_context', async (t) => {
  const wasm = guest(
    [
      'proxy_set_tick_period_milliseconds',
      'proxy_set_effective_context',
      'proxy_add_header_map_value',
      'proxy_continue_stream',
      'proxy_get_header_map_value',
    ],
    (f, b) => {
      const k = b.dataAt(1000, 'x-from-tick');
      const v = b.dataAt(1020, 'yes');
      return {
        proxy_on_vm_start: [op.i32(100), op.call(f.proxy_set_tick_period_milliseconds as number), op.drop, op.i32(1)],
        proxy_on_request_headers: [op.i32(1)], // StopIteration: wait for the tick
        proxy_on_tick: [
          ...storeStatus(500, [op.i32(2), op.call(f.proxy_set_effective_context as number)]),
          ...storeStatus(504, [
            op.i32(0),
            op.i32(k.ptr),
            op.i32(k.len),
            op.i32(v.ptr),
            op.i32(v.len),
            op.call(f.proxy_add_header_map_value as number),
          ]),
          ...storeStatus(508, [op.i32(0), op.call(f.proxy_continue_stream as number)]),
          // after resuming, Envoy no longer hands out the request headers
          ...storeStatus(512, [
            op.i32(0),
            op.i32(k.ptr),
            op.i32(k.len),
            op.i32(516),
            op.i32(520),
            op.call(f.proxy_get_header_map_value as number),
          ]),
          ...storeStatus(524, [op.i32(99), op.call(f.proxy_set_effective_context as number)]),
        ],
      };
    },
  );
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  t.is(s.contextId, 2);
  t.is(s.callOnRequestHeaders({ ':path': '/' }), 1);
  t.true(host.tick());
  t.is(u32(host, 500), WasmResult.Ok);
  t.is(u32(host, 504), WasmResult.Ok);
  t.deepEqual(s.currentRequestHeaders(), [
    [':path', '/'],
    ['x-from-tick', 'yes'],
  ]);
  t.deepEqual(s.continued, [0]);
  t.is(u32(host, 512), WasmResult.BadArgument);
  t.is(u32(host, 524), WasmResult.BadArgument, 'an unknown context id');
});

test('WASI fd_write goes to the log (stdout info, stderr error); environ shows vm env vars', async (t) => {
  const wasm = guest(
    [
      'wasi_snapshot_preview1.fd_write',
      'wasi_snapshot_preview1.environ_sizes_get',
      'wasi_snapshot_preview1.environ_get',
    ],
    (f, b) => {
      const out = b.dataAt(1000, 'to stdout\n');
      const err = b.dataAt(1020, 'to stderr');
      // iovecs: {ptr, len} little-endian u32 pairs
      const iov = (p: Data) => Uint8Array.from([...u32le(p.ptr), ...u32le(p.len)]);
      const iovOut = b.dataAt(1100, iov(out));
      const iovErr = b.dataAt(1110, iov(err));
      const write = (slot: number, fd: number, v: Data) =>
        storeStatus(slot, [op.i32(fd), op.i32(v.ptr), op.i32(1), op.i32(slot + 4), op.call(f.fd_write as number)]);
      return {
        proxy_on_request_headers: [
          ...write(600, 1, iovOut),
          ...write(608, 2, iovErr),
          ...write(616, 3, iovErr),
          ...storeStatus(624, [op.i32(628), op.i32(632), op.call(f.environ_sizes_get as number)]),
          ...storeStatus(636, [op.i32(640), op.i32(700), op.call(f.environ_get as number)]),
          op.i32(0),
        ],
      };
    },
  );
  const host = await ProxyWasmHost.load(wasm, { env: { OTEL_SERVICE_NAME: 'checkout' } });
  host.startPlugin();
  host.newHttpStream().callOnRequestHeaders({});
  t.deepEqual(
    host.logs().map((l) => [l.level, l.message]),
    [
      ['info', 'to stdout'],
      ['error', 'to stderr'],
    ],
  );
  t.is(u32(host, 604), 10, 'bytes written, newline included');
  t.is(u32(host, 616), 8, 'other descriptors are EBADF');
  t.is(u32(host, 628), 1);
  t.is(u32(host, 632), 'OTEL_SERVICE_NAME=checkout\0'.length);
  t.is(u32(host, 640), 700);
  t.is(Buffer.from(host.readMemory(700, 26)).toString(), 'OTEL_SERVICE_NAME=checkout');
});

test('a root context that defers on_done is deleted once it calls proxy_done', async (t) => {
  const wasm = guest(['proxy_set_tick_period_milliseconds', 'proxy_done'], (f) => ({
    proxy_on_vm_start: [op.i32(10), op.call(f.proxy_set_tick_period_milliseconds as number), op.drop, op.i32(1)],
    proxy_on_done: [op.i32(0)], // not yet: still flushing
    proxy_on_tick: [op.call(f.proxy_done as number), op.drop],
    proxy_on_delete: [op.i32(800), op.localGet(0), op.i32Store()],
  }));
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  host.shutdown();
  t.is(host.liveContexts(), 1, 'root kept while on_done said "not yet"');
  t.is(u32(host, 800), 0);
  host.tick();
  t.is(host.liveContexts(), 0);
  t.is(u32(host, 800), host.rootContextId, 'proxy_on_delete ran for the root');
});

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
