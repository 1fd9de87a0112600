// Tests of the TypeScript Proxy-Wasm host itself, against tiny guests assembled from bytes:
// loading fails the way Envoy fails, and each reproduced Envoy quirk holds.
import test from 'ava';
import { HeaderMapType, WasmResult } from '../support/proxy-wasm-host/abi.ts';
import { FakeClock, fixedRandom } from '../support/proxy-wasm-host/determinism.ts';
import { encodePairs } from '../support/proxy-wasm-host/header-map.ts';
import { MissingWasmError, ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';
import { ModuleBuilder, op, proxyGuest } from '../support/proxy-wasm-host/module-builder.ts';
import { GUEST_EXPORTS, HOST_IMPORTS } from '../support/proxy-wasm-host/signatures.ts';

const SIGS = { imports: HOST_IMPORTS, exports: GUEST_EXPORTS };
const guest = (imports: string[], setup: Parameters<typeof proxyGuest>[1]) => proxyGuest(imports, setup, SIGS);

const u32 = (host: ProxyWasmHost, ptr: number) => new DataView(host.readMemory(ptr, 4).buffer).getUint32(0, true);
const text = (host: ProxyWasmHost, ptrAt: number) =>
  Buffer.from(host.readMemory(u32(host, ptrAt), u32(host, ptrAt + 4))).toString('utf8');

/** Body: status = f(args…) stored at `slot`. */
const storeStatus = (slot: number, call: number[][]) => [op.i32(slot), ...call, op.i32Store()];

test('a module importing a function the host lacks fails to load, naming the import', async (t) => {
  const b = new ModuleBuilder();
  b.import('env', 'proxy_get_current_time_nanoseconds', ['i32']);
  b.import('env', 'proxy_frobnicate', ['i32']);
  b.func({ export: 'proxy_abi_version_0_2_1' });
  b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: [op.i32(0)] });
  const err = await t.throwsAsync(ProxyWasmHost.load(b.build()));
  t.is(err?.message, 'Failed to load Wasm module due to a missing import: env.proxy_frobnicate');
});

test('AssemblyScript default imports (env.abort) are refused like Envoy refuses them', async (t) => {
  const b = new ModuleBuilder();
  b.import('env', 'abort', ['i32', 'i32', 'i32', 'i32'], []);
  b.func({ export: 'proxy_abi_version_0_2_1' });
  b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: [op.i32(0)] });
  const err = await t.throwsAsync(ProxyWasmHost.load(b.build()));
  t.regex(err?.message ?? '', /missing import: env\.abort$/);
});

test('an import with the wrong signature fails, naming it and both signatures', async (t) => {
  const b = new ModuleBuilder();
  b.import('env', 'proxy_log', ['i32', 'i32'], ['i32']);
  b.func({ export: 'proxy_abi_version_0_2_1' });
  b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: [op.i32(0)] });
  const err = await t.throwsAsync(ProxyWasmHost.load(b.build()));
  t.regex(
    err?.message ?? '',
    /import type mismatch for env\.proxy_log, want: \(i32, i32\) -> \(i32\), but host exports: \(i32, i32, i32\) -> \(i32\)/,
  );
});

test('a module without the ABI marker is refused', async (t) => {
  const b = new ModuleBuilder();
  b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: [op.i32(0)] });
  const err = await t.throwsAsync(ProxyWasmHost.load(b.build()));
  t.regex(err?.message ?? '', /Missing or unknown Proxy-Wasm ABI version/);
});

test('a callback exported with the wrong signature is refused', async (t) => {
  const b = new ModuleBuilder();
  b.func({ export: 'proxy_abi_version_0_2_1' });
  b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: [op.i32(0)] });
  b.func({ export: 'proxy_on_request_headers', params: ['i32', 'i32'], results: ['i32'], body: [op.i32(0)] });
  const err = await t.throwsAsync(ProxyWasmHost.load(b.build()));
  t.regex(err?.message ?? '', /Bad function signature for: proxy_on_request_headers/);
});

test('a missing .wasm names the build command', async (t) => {
  const err = await t.throwsAsync(ProxyWasmHost.load('/nonexistent/meshtrace-filter.wasm'));
  t.true(err instanceof MissingWasmError);
  t.regex(err?.message ?? '', /npm run build:wasm/);
});

test('start sequence: configuration reaches on_configure only, and its verdict is returned', async (t) => {
  const imports = ['proxy_get_buffer_bytes', 'proxy_log'];
  const wasm = (verdict: number) =>
    guest(imports, (f) => ({
      // configure: read the whole plugin configuration into (100,104), log it, return verdict.
      proxy_on_configure: [
        op.i32(7),
        op.i32(0),
        op.localGet(1),
        op.i32(100),
        op.i32(104),
        op.call(f.proxy_get_buffer_bytes as number),
        op.drop,
        op.i32(2),
        op.i32(100),
        op.i32Load(),
        op.i32(104),
        op.i32Load(),
        op.call(f.proxy_log as number),
        op.drop,
        op.i32(verdict),
      ],
      // a stream reading the plugin configuration later gets NotFound (stored at 200).
      proxy_on_request_headers: [
        ...storeStatus(200, [
          op.i32(7),
          op.i32(0),
          op.i32(64),
          op.i32(100),
          op.i32(104),
          op.call(f.proxy_get_buffer_bytes as number),
        ]),
        op.i32(0),
      ],
    }));
  const ok = await ProxyWasmHost.load(wasm(1), { configuration: { exporter: 'none' } });
  t.true(ok.startPlugin());
  t.deepEqual(ok.logMessages(), ['{"exporter":"none"}']);
  const s = ok.newHttpStream();
  s.callOnRequestHeaders({ ':path': '/' });
  t.is(u32(ok, 200), WasmResult.NotFound, 'plugin configuration outside on_configure');

  const refused = await ProxyWasmHost.load(wasm(0), { configuration: '{}' });
  t.false(refused.startPlugin());
});

test('header quirks: lower-cased keys, first of duplicates, empty value is Ok with size 0, absent is NotFound', async (t) => {
  const imports = [
    'proxy_get_header_map_value',
    'proxy_add_header_map_value',
    'proxy_replace_header_map_value',
    'proxy_remove_header_map_value',
    'proxy_get_header_map_size',
  ];
  const wasm = guest(imports, (f, b) => {
    const dup = b.dataAt(1000, 'X-Dup');
    const empty = b.dataAt(1010, 'x-empty');
    const absent = b.dataAt(1020, 'x-absent');
    const added = b.dataAt(1030, 'X-Added');
    const v1 = b.dataAt(1040, 'v1');
    const tp = b.dataAt(1050, 'TraceParent');
    const tpv = b.dataAt(1070, 'new-value');
    const rm = b.dataAt(1090, 'x-remove');
    const lookup = (slot: number, k: { ptr: number; len: number }, type: number = HeaderMapType.RequestHeaders) =>
      storeStatus(slot, [
        op.i32(type),
        op.i32(k.ptr),
        op.i32(k.len),
        op.i32(slot + 4),
        op.i32(slot + 8),
        op.call(f.proxy_get_header_map_value as number),
      ]);
    const mutate = (fn: string, k: { ptr: number; len: number }, v?: { ptr: number; len: number }) => [
      op.i32(0),
      op.i32(k.ptr),
      op.i32(k.len),
      ...(v ? [op.i32(v.ptr), op.i32(v.len)] : []),
      op.call(f[fn] as number),
      op.drop,
    ];
    return {
      proxy_on_request_headers: [
        ...lookup(256, dup),
        ...lookup(268, empty),
        ...lookup(280, absent),
        ...mutate('proxy_add_header_map_value', added, v1),
        ...mutate('proxy_replace_header_map_value', tp, tpv),
        ...mutate('proxy_remove_header_map_value', rm),
        ...storeStatus(300, [op.i32(0), op.i32(304), op.call(f.proxy_get_header_map_size as number)]),
        op.i32(0),
      ],
      // After on_request_headers continued, Envoy no longer lets the filter read request headers.
      proxy_on_response_headers: [...lookup(400, dup), op.i32(0)],
      // …but the access-log pass can read them again.
      proxy_on_log: [...lookup(500, dup), ...lookup(512, absent, HeaderMapType.ResponseTrailers)],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  t.true(host.startPlugin());
  const s = host.newHttpStream();
  const action = s.callOnRequestHeaders([
    [':path', '/'],
    ['x-dup', 'first'],
    ['X-DUP', 'second'],
    ['x-empty', ''],
    ['traceparent', 'old-1'],
    ['traceparent', 'old-2'],
    ['x-remove', 'gone'],
  ]);
  t.is(action, 0);
  t.is(u32(host, 256), WasmResult.Ok);
  t.is(text(host, 260), 'first', 'a duplicated header reads as its first value');
  t.is(u32(host, 268), WasmResult.Ok, 'present but empty is Ok');
  t.is(u32(host, 272), 0, 'empty value: pointer 0');
  t.is(u32(host, 276), 0, 'empty value: size 0');
  t.is(u32(host, 280), WasmResult.NotFound, 'absent header');
  t.deepEqual(s.currentRequestHeaders(), [
    [':path', '/'],
    ['x-dup', 'first'],
    ['x-dup', 'second'],
    ['x-empty', ''],
    ['x-added', 'v1'],
    ['traceparent', 'new-value'],
  ]);
  t.is(u32(host, 300), WasmResult.Ok);
  const byteSize = s.currentRequestHeaders().reduce((n, [k, v]) => n + k.length + v.length, 0);
  t.is(u32(host, 304), byteSize, 'header map size is the byte size, not the count');

  s.callOnResponseHeaders({ ':status': '200' });
  t.is(u32(host, 400), WasmResult.BadArgument, 'request headers after Continue');
  s.complete();
  t.is(u32(host, 500), WasmResult.Ok, 'request headers in on_log');
  t.is(text(host, 504), 'first');
  t.is(u32(host, 512), WasmResult.NotFound, 'an absent map in the access-log phase is NotFound');
  t.is(host.liveContexts(), 1, 'only the root context remains');
});

test('pseudo-headers stay ahead of regular headers, as in Envoy header maps', async (t) => {
  const wasm = guest(['proxy_add_header_map_value'], (f, b) => {
    const k = b.dataAt(1000, ':path');
    const v = b.dataAt(1010, '/rewritten');
    const k2 = b.dataAt(1030, 'x-late');
    return {
      proxy_on_request_headers: [
        op.i32(0),
        op.i32(k2.ptr),
        op.i32(k2.len),
        op.i32(v.ptr),
        op.i32(v.len),
        op.call(f.proxy_add_header_map_value as number),
        op.drop,
        op.i32(0),
        op.i32(k.ptr),
        op.i32(k.len),
        op.i32(v.ptr),
        op.i32(v.len),
        op.call(f.proxy_add_header_map_value as number),
        op.drop,
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  s.callOnRequestHeaders([
    ['user-agent', 'ua'],
    [':method', 'GET'],
  ]);
  t.deepEqual(s.currentRequestHeaders(), [
    [':method', 'GET'],
    [':path', '/rewritten'],
    ['user-agent', 'ua'],
    ['x-late', '/rewritten'],
  ]);
  t.deepEqual(host.hostCalls(), { proxy_add_header_map_value: 2 }, 'every host call is counted');
});

test('header pairs round-trip through the ABI wire format', async (t) => {
  const pairs = encodePairs([
    ['X-Set', 'a'],
    [':status', '204'],
  ]);
  const wasm = guest(['proxy_set_header_map_pairs', 'proxy_get_header_map_pairs'], (f, b) => {
    const p = b.dataAt(2000, pairs);
    return {
      proxy_on_response_headers: [
        op.i32(HeaderMapType.ResponseHeaders),
        op.i32(p.ptr),
        op.i32(p.len),
        op.call(f.proxy_set_header_map_pairs as number),
        op.drop,
        ...storeStatus(600, [
          op.i32(HeaderMapType.ResponseHeaders),
          op.i32(604),
          op.i32(608),
          op.call(f.proxy_get_header_map_pairs as number),
        ]),
        // pairs of a map that does not exist yet (trailers): Ok, pointer 0, size 0.
        ...storeStatus(620, [
          op.i32(HeaderMapType.ResponseTrailers),
          op.i32(624),
          op.i32(628),
          op.call(f.proxy_get_header_map_pairs as number),
        ]),
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  s.callOnRequestHeaders({ ':path': '/' });
  s.callOnResponseHeaders({ ':status': '200', server: 'x' });
  t.deepEqual(s.currentResponseHeaders(), [
    [':status', '204'],
    ['x-set', 'a'],
  ]);
  t.is(u32(host, 600), WasmResult.Ok);
  const got = host.readMemory(u32(host, 604), u32(host, 608));
  t.deepEqual(Buffer.from(got), Buffer.from(encodePairs(s.currentResponseHeaders())));
  t.deepEqual([u32(host, 620), u32(host, 624), u32(host, 628)], [WasmResult.Ok, 0, 0]);
});

test('send_local_response is recorded and forces StopIteration', async (t) => {
  const wasm = guest(['proxy_send_local_response'], (f, b) => {
    const details = b.dataAt(3000, 'denied_by_test');
    const body = b.dataAt(3020, 'nope');
    const headers = b.dataAt(3040, encodePairs([['X-Reason', 'test']]));
    return {
      proxy_on_request_headers: [
        op.i32(403),
        op.i32(details.ptr),
        op.i32(details.len),
        op.i32(body.ptr),
        op.i32(body.len),
        op.i32(headers.ptr),
        op.i32(headers.len),
        op.i32(-1),
        op.call(f.proxy_send_local_response as number),
        op.drop,
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  t.is(s.callOnRequestHeaders({ ':path': '/' }), 1);
  t.deepEqual(s.localResponse, {
    status: 403,
    details: 'denied_by_test',
    body: 'nope',
    headers: [['x-reason', 'test']],
    grpcStatus: -1,
  });
});

test('WASI random_get and clock_time_get use the injected sources', async (t) => {
  const wasm = guest(['wasi_snapshot_preview1.random_get', 'wasi_snapshot_preview1.clock_time_get'], (f) => ({
    proxy_on_request_headers: [
      ...storeStatus(700, [op.i32(704), op.i32(16), op.call(f.random_get as number)]),
      ...storeStatus(720, [op.i32(0), op.i64(0n), op.i32(728), op.call(f.clock_time_get as number)]),
      ...storeStatus(740, [op.i32(2), op.i64(0n), op.i32(744), op.call(f.clock_time_get as number)]),
      op.i32(0),
    ],
  }));
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const clock = new FakeClock();
  const host = await ProxyWasmHost.load(wasm, { random: fixedRandom(bytes), clock });
  host.startPlugin();
  clock.advance(1500);
  host.newHttpStream().callOnRequestHeaders({});
  t.is(u32(host, 700), 0);
  t.deepEqual(host.readMemory(704, 16), bytes);
  t.is(u32(host, 720), 0);
  t.is(
    new DataView(host.readMemory(728, 8).buffer).getBigUint64(0, true),
    BigInt(Date.UTC(2026, 0, 1) + 1500) * 1_000_000n,
  );
  t.is(u32(host, 740), 58, 'CPU-time clocks are ENOTSUP as in cpp-host');
});

test('metrics: counter ids start at 0, counters refuse non-positive increments, gauges set', async (t) => {
  const wasm = guest(
    ['proxy_define_metric', 'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric'],
    (f, b) => {
      const c = b.dataAt(4000, 'requests_total');
      const g = b.dataAt(4020, 'queue_depth');
      const h = b.dataAt(4040, 'latency');
      const define = (type: number, n: { ptr: number; len: number }, slot: number) => [
        op.i32(type),
        op.i32(n.ptr),
        op.i32(n.len),
        op.i32(slot),
        op.call(f.proxy_define_metric as number),
        op.drop,
      ];
      return {
        proxy_on_vm_start: [...define(0, c, 800), ...define(1, g, 804), ...define(2, h, 808), op.i32(1)],
        proxy_on_request_headers: [
          op.i32(800),
          op.i32Load(),
          op.i64(1n),
          op.call(f.proxy_increment_metric as number),
          op.drop,
          ...storeStatus(820, [op.i32(800), op.i32Load(), op.i64(0n), op.call(f.proxy_increment_metric as number)]),
          op.i32(804),
          op.i32Load(),
          op.i64(7n),
          op.call(f.proxy_record_metric as number),
          op.drop,
          op.i32(808),
          op.i32Load(),
          op.i64(42n),
          op.call(f.proxy_record_metric as number),
          op.drop,
          ...storeStatus(824, [op.i32(800), op.i32Load(), op.i32(832), op.call(f.proxy_get_metric as number)]),
          op.i32(0),
        ],
      };
    },
  );
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  t.deepEqual([u32(host, 800), u32(host, 804), u32(host, 808)], [0, 1, 2]);
  for (let i = 0; i < 3; i++) host.newHttpStream().callOnRequestHeaders({});
  t.is(u32(host, 820), WasmResult.BadArgument);
  t.deepEqual(host.metrics(), {
    requests_total: { type: 'counter', value: 3 },
    queue_depth: { type: 'gauge', value: 7 },
    latency: { type: 'histogram', value: 3, samples: [42, 42, 42] },
  });
  t.is(u32(host, 832), 3, 'proxy_get_metric reads the counter');
});

test('http_call goes out from the root context and its response is readable only in the callback', async (t) => {
  const imports = ['proxy_http_call', 'proxy_get_header_map_value', 'proxy_get_buffer_bytes', 'proxy_get_status'];
  const wasm = guest(imports, (f, b) => {
    const cluster = b.dataAt(5000, 'otel_collector');
    const headers = b.dataAt(
      5100,
      encodePairs([
        [':method', 'POST'],
        [':path', '/v1/traces'],
        [':authority', 'collector'],
      ]),
    );
    const body = b.dataAt(5300, 'spans');
    const status = b.dataAt(5400, ':status');
    return {
      proxy_on_request_headers: [
        ...storeStatus(900, [
          op.i32(cluster.ptr),
          op.i32(cluster.len),
          op.i32(headers.ptr),
          op.i32(headers.len),
          op.i32(body.ptr),
          op.i32(body.len),
          op.i32(0),
          op.i32(0),
          op.i32(500),
          op.i32(904),
          op.call(f.proxy_http_call as number),
        ]),
        op.i32(0),
      ],
      proxy_on_http_call_response: [
        op.i32(910),
        op.localGet(0),
        op.i32Store(),
        op.i32(914),
        op.localGet(1),
        op.i32Store(),
        op.i32(918),
        op.localGet(3),
        op.i32Store(),
        ...storeStatus(922, [
          op.i32(HeaderMapType.HttpCallResponseHeaders),
          op.i32(status.ptr),
          op.i32(status.len),
          op.i32(926),
          op.i32(930),
          op.call(f.proxy_get_header_map_value as number),
        ]),
        op.i32(4),
        op.i32(0),
        op.localGet(3),
        op.i32(934),
        op.i32(938),
        op.call(f.proxy_get_buffer_bytes as number),
        op.drop,
        op.i32(942),
        op.i32(946),
        op.i32(950),
        op.call(f.proxy_get_status as number),
        op.drop,
      ],
      // outside the callback the response is gone
      proxy_on_response_headers: [
        ...storeStatus(960, [
          op.i32(4),
          op.i32(0),
          op.i32(10),
          op.i32(964),
          op.i32(968),
          op.call(f.proxy_get_buffer_bytes as number),
        ]),
        op.i32(0),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const s = host.newHttpStream();
  s.callOnRequestHeaders({ ':path': '/' });
  t.is(u32(host, 900), WasmResult.Ok);
  const [call] = host.pendingHttpCalls();
  t.truthy(call);
  t.is(call?.upstream, 'otel_collector');
  t.is(call?.timeoutMs, 500);
  t.is(call?.contextId, host.rootContextId);
  t.is(Buffer.from(call?.body ?? []).toString(), 'spans');
  t.is(u32(host, 904), call?.token as number);
  host.respondToHttpCall(call?.token as number, { headers: { ':status': '202' }, body: 'accepted' });
  t.is(u32(host, 910), host.rootContextId, 'callback on the root context');
  t.is(u32(host, 914), call?.token as number);
  t.is(u32(host, 918), 8);
  t.is(u32(host, 922), WasmResult.Ok);
  t.is(text(host, 926), '202');
  t.is(text(host, 934), 'accepted');
  t.is(u32(host, 942), WasmResult.Ok);
  t.deepEqual(host.pendingHttpCalls(), []);
  s.callOnResponseHeaders({ ':status': '200' });
  t.is(u32(host, 960), WasmResult.NotFound);

  // A second call that fails: BrokenConnection "reset", no body.
  const s2 = host.newHttpStream();
  s2.callOnRequestHeaders({ ':path': '/' });
  const [second] = host.pendingHttpCalls();
  host.failHttpCall(second?.token as number);
  t.is(u32(host, 918), 0);
  t.is(u32(host, 942), WasmResult.BrokenConnection);
  t.is(text(host, 946), 'reset');
});

test('http_call without :authority, or to an unknown cluster, is BadArgument', async (t) => {
  const wasm = (headers: [string, string][]) =>
    guest(['proxy_http_call'], (f, b) => {
      const cluster = b.dataAt(5000, 'collector');
      const h = b.dataAt(5100, encodePairs(headers));
      return {
        proxy_on_request_headers: [
          ...storeStatus(900, [
            op.i32(cluster.ptr),
            op.i32(cluster.len),
            op.i32(h.ptr),
            op.i32(h.len),
            op.i32(0),
            op.i32(0),
            op.i32(0),
            op.i32(0),
            op.i32(100),
            op.i32(904),
            op.call(f.proxy_http_call as number),
          ]),
          op.i32(0),
        ],
      };
    });
  const noAuthority = await ProxyWasmHost.load(
    wasm([
      [':method', 'GET'],
      [':path', '/'],
    ]),
  );
  noAuthority.startPlugin();
  noAuthority.newHttpStream().callOnRequestHeaders({});
  t.is(u32(noAuthority, 900), WasmResult.BadArgument);
  const full: [string, string][] = [
    [':method', 'GET'],
    [':path', '/'],
    [':authority', 'c'],
  ];
  const unknown = await ProxyWasmHost.load(wasm(full), { clusters: ['other'] });
  unknown.startPlugin();
  unknown.newHttpStream().callOnRequestHeaders({});
  t.is(u32(unknown, 900), WasmResult.BadArgument);
  t.deepEqual(unknown.pendingHttpCalls(), []);
});

test('tick, shared data with CAS, and shared queues with on_queue_ready', async (t) => {
  const imports = [
    'proxy_set_tick_period_milliseconds',
    'proxy_set_shared_data',
    'proxy_get_shared_data',
    'proxy_register_shared_queue',
    'proxy_dequeue_shared_queue',
    'proxy_log',
  ];
  const wasm = guest(imports, (f, b) => {
    const key = b.dataAt(6000, 'sampler/rate');
    const val = b.dataAt(6020, '0.25');
    const q = b.dataAt(6040, 'spans');
    const ticked = b.dataAt(6060, 'tick');
    return {
      proxy_on_vm_start: [
        op.i32(5000),
        op.call(f.proxy_set_tick_period_milliseconds as number),
        op.drop,
        ...storeStatus(1100, [
          op.i32(key.ptr),
          op.i32(key.len),
          op.i32(val.ptr),
          op.i32(val.len),
          op.i32(0),
          op.call(f.proxy_set_shared_data as number),
        ]),
        // a write with a stale CAS (99) is refused
        ...storeStatus(1104, [
          op.i32(key.ptr),
          op.i32(key.len),
          op.i32(val.ptr),
          op.i32(val.len),
          op.i32(99),
          op.call(f.proxy_set_shared_data as number),
        ]),
        ...storeStatus(1108, [
          op.i32(key.ptr),
          op.i32(key.len),
          op.i32(1112),
          op.i32(1116),
          op.i32(1120),
          op.call(f.proxy_get_shared_data as number),
        ]),
        ...storeStatus(1124, [
          op.i32(q.ptr),
          op.i32(q.len),
          op.i32(1128),
          op.call(f.proxy_register_shared_queue as number),
        ]),
        op.i32(1),
      ],
      proxy_on_tick: [op.i32(2), op.i32(ticked.ptr), op.i32(ticked.len), op.call(f.proxy_log as number), op.drop],
      proxy_on_queue_ready: [
        ...storeStatus(1140, [
          op.localGet(1),
          op.i32(1144),
          op.i32(1148),
          op.call(f.proxy_dequeue_shared_queue as number),
        ]),
        ...storeStatus(1152, [
          op.localGet(1),
          op.i32(1156),
          op.i32(1160),
          op.call(f.proxy_dequeue_shared_queue as number),
        ]),
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  t.throws(() => host.tick(), { message: /startPlugin/ });
  host.startPlugin();
  t.is(host.tickPeriodMs, 5000);
  t.true(host.tick());
  t.deepEqual(host.logMessages(), ['tick']);
  t.is(u32(host, 1100), WasmResult.Ok);
  t.is(u32(host, 1104), WasmResult.CasMismatch);
  t.is(u32(host, 1108), WasmResult.Ok);
  t.is(text(host, 1112), '0.25');
  t.is(u32(host, 1120), host.sharedData('sampler/rate')?.cas as number);
  t.is(u32(host, 1124), WasmResult.Ok);
  host.enqueueSharedQueue('spans', 'batch-1');
  t.is(u32(host, 1140), WasmResult.Ok);
  t.is(text(host, 1144), 'batch-1');
  t.is(u32(host, 1152), WasmResult.Empty, 'second dequeue finds the queue empty');
});

test('a trap fails the VM with the callback name and recent logs', async (t) => {
  const wasm = guest(['proxy_log'], (f, b) => {
    const msg = b.dataAt(7000, 'about to fail');
    return {
      proxy_on_request_headers: [
        op.i32(4),
        op.i32(msg.ptr),
        op.i32(msg.len),
        op.call(f.proxy_log as number),
        op.drop,
        op.unreachable,
      ],
    };
  });
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const err = t.throws(() => host.newHttpStream().callOnRequestHeaders({}));
  t.regex(err?.message ?? '', /Wasm trap in proxy_on_request_headers: unreachable[\s\S]*about to fail/);
  const again = t.throws(() => host.newHttpStream());
  t.regex(again?.message ?? '', /failed earlier/);
});

test('memoryBytes() sees a guest that leaks: one page per allocation, never returned', async (t) => {
  // The negative control for the filter's flat-memory test: the same measurement must move
  // when the guest does leak.
  const wasm = guest(['proxy_get_header_map_pairs'], (f) => ({
    proxy_on_memory_allocate: [op.i32(1), op.memoryGrow, op.i32(16), op.i32Shl],
    proxy_on_request_headers: [
      op.i32(0),
      op.i32(100),
      op.i32(104),
      op.call(f.proxy_get_header_map_pairs as number),
      op.drop,
      op.i32(0),
    ],
  }));
  const host = await ProxyWasmHost.load(wasm);
  host.startPlugin();
  const before = host.memoryBytes();
  for (let i = 0; i < 10; i++) {
    const s = host.newHttpStream();
    s.callOnRequestHeaders({ ':path': '/' });
    s.complete();
  }
  t.is(host.memoryBytes() - before, 10 * 65536);
});
