// The hand-written ProcessingRequest decoder and ProcessingResponse encoder against proto-loader
// over Envoy's own protos (the codec they replace on the server's hot path): any request
// proto-loader encodes decodes to the same headers, body, trailers and attributes; any Reply
// encodes to bytes proto-loader reads as the response the service used to build for it.
import { isDeepStrictEqual } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import type {
  ProcessingMode,
  ProcessingRequest,
  ProcessingResponse,
  Struct,
  StructValue,
} from '../../ext-authz/envoy-types.ts';
import { fromHeaderMap, overwrite } from '../../ext-authz/headers.ts';
import {
  decodeProcessingRequest,
  encodeProcessingResponse,
  type Reply,
  RESPONSE_ARMS,
} from '../../ext-authz/processing-codec.ts';
import { loadServices } from '../../ext-authz/protos.ts';
import { fromStruct, type Plain, toStruct, toStructValue } from '../../ext-authz/struct.ts';

const method = loadServices().extProc.Process as unknown as {
  requestSerialize(m: object): Buffer;
  requestDeserialize(b: Buffer): ProcessingRequest;
  responseSerialize(m: object): Buffer;
  responseDeserialize(b: Buffer): ProcessingResponse;
};

function holds<T>(t: ExecutionContext, property: fc.IProperty<T>): void {
  const details = fc.check(property, { numRuns: 300 });
  const report = fc.defaultReportMessage(details) ?? '';
  t.false(details.failed, report.length > 2000 ? `${report.slice(0, 2000)}…` : report);
}

/** What the service reads from a request, whichever decoder produced it. */
function view(m: ProcessingRequest) {
  const arm = m.request;
  const part = arm === undefined ? undefined : (m[arm] as Record<string, unknown> | undefined);
  return {
    request: arm,
    headers: [...fromHeaderMap(m.request_headers?.headers ?? m.response_headers?.headers)],
    trailers: [...fromHeaderMap(m.request_trailers?.trailers ?? m.response_trailers?.trailers)],
    body: (m.request_body?.body ?? m.response_body?.body)?.toString('hex'),
    end_of_stream: part?.end_of_stream === true,
    attributes: Object.fromEntries(Object.entries(m.attributes ?? {}).map(([k, s]) => [k, fromStruct(s)])),
    observability_mode: m.observability_mode === true,
  };
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
// Object keys: `__proto__` would set a prototype in the expectation's plain objects, not a key.
const key = text.filter((k) => k !== '__proto__');
const headerValue = fc.oneof(
  fc.record({ key: text, raw_value: text.map((s) => Buffer.from(s, 'utf8')) }),
  fc.record({ key: text, value: text }),
  fc.record({ key: text, value: text, raw_value: text.map((s) => Buffer.from(s, 'utf8')) }),
);
const headerMap = fc.record({ headers: fc.array(headerValue, { maxLength: 12 }) });
const plain: fc.Arbitrary<Plain> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Plain>;
const struct = fc.dictionary(key, plain, { maxKeys: 6 }).map((o): Struct => toStruct(o));
const requestArb = fc
  .record(
    {
      arm: fc.constantFrom(...RESPONSE_ARMS),
      headers: headerMap,
      body: fc.uint8Array({ maxLength: 300 }),
      end_of_stream: fc.boolean(),
      attributes: fc.dictionary(key, struct, { maxKeys: 3 }),
      observability_mode: fc.boolean(),
      metadata: fc.dictionary(key, struct, { maxKeys: 2 }),
    },
    { requiredKeys: ['arm'] },
  )
  .map((r) => {
    const msg: Record<string, unknown> = {};
    if (r.arm.endsWith('headers')) msg[r.arm] = { headers: r.headers, end_of_stream: r.end_of_stream };
    else if (r.arm.endsWith('body')) msg[r.arm] = { body: Buffer.from(r.body ?? []), end_of_stream: r.end_of_stream };
    else msg[r.arm] = { trailers: r.headers };
    if (r.attributes) msg.attributes = r.attributes;
    if (r.observability_mode !== undefined) msg.observability_mode = r.observability_mode;
    // Sent by Envoy, unused here: must be skipped, not misread.
    if (r.metadata) msg.metadata_context = { filter_metadata: r.metadata };
    return msg;
  });

test('decode: any ProcessingRequest proto-loader encodes reads the same through the hand-written decoder', (t) => {
  holds(
    t,
    fc.property(requestArb, (msg) => {
      const bytes = method.requestSerialize(msg);
      const ours = view(decodeProcessingRequest(bytes));
      const theirs = view(method.requestDeserialize(bytes));
      if (!isDeepStrictEqual(ours, theirs))
        throw new Error(`differs:\n${JSON.stringify(ours)}\n${JSON.stringify(theirs)}`);
    }),
  );
});

test('decode: raw_value wins over value unless empty, as headers.ts did with proto-loader', (t) => {
  const bytes = method.requestSerialize({
    request_headers: {
      headers: {
        headers: [
          { key: ':path', raw_value: Buffer.from('/raw'), value: '/value' },
          { key: 'x-old', value: 'from-value' },
          { key: 'x-empty-raw', raw_value: Buffer.alloc(0), value: 'fallback' },
          { key: 'x-unicode', raw_value: Buffer.from('ünïcødé ✓') },
        ],
      },
      end_of_stream: true,
    },
    attributes: {
      'envoy.filters.http.ext_proc': toStruct({ 'xds.route_name': 'r1', 'source.address': '10.0.0.1:5555' }),
    },
  });
  const m = decodeProcessingRequest(bytes);
  t.is(m.request, 'request_headers');
  t.true(m.request_headers?.end_of_stream);
  t.deepEqual(
    [...fromHeaderMap(m.request_headers?.headers)],
    [
      [':path', ['/raw']],
      ['x-old', ['from-value']],
      ['x-empty-raw', ['fallback']],
      ['x-unicode', ['ünïcødé ✓']],
    ],
  );
  t.deepEqual(fromStruct(m.attributes?.['envoy.filters.http.ext_proc']), {
    'xds.route_name': 'r1',
    'source.address': '10.0.0.1:5555',
  });
});

// Keys come off the wire: one named `__proto__` must stay an ordinary own key, not become the
// object's prototype (the key would vanish and its value be inherited by every lookup).
test('decode and struct: a key named __proto__ stays an own key, nothing is inherited', (t) => {
  const evil = { ['__proto__']: { stringValue: 'x' } } as Record<string, StructValue>;
  t.true(Object.hasOwn(evil, '__proto__'), 'the fixture itself holds an own key');
  const bytes = method.requestSerialize({
    request_headers: { headers: { headers: [] } },
    attributes: { ['__proto__']: { fields: evil }, ns: { fields: evil } },
  });
  const m = decodeProcessingRequest(bytes);
  t.deepEqual(Object.keys(m.attributes ?? {}).sort(), ['__proto__', 'ns']);
  t.is(Object.getPrototypeOf(m.attributes), Object.prototype);
  const ns = m.attributes?.['ns'];
  if (ns === undefined) return t.fail('namespace ns missing');
  t.deepEqual(Object.keys(ns.fields ?? {}), ['__proto__']);
  t.is(Object.getPrototypeOf(ns.fields), Object.prototype);
  t.is((ns.fields as Record<string, unknown>)['stringValue'], undefined, 'nothing inherited');

  const plain = fromStruct(ns);
  t.deepEqual(Object.keys(plain), ['__proto__']);
  t.is(Object.getPrototypeOf(plain), Object.prototype);
  const back = toStruct(plain);
  t.deepEqual(Object.keys(back.fields ?? {}), ['__proto__']);
  t.is(Object.getPrototypeOf(back.fields), Object.prototype);
});

test('decode: a later oneof arm replaces an earlier one (proto3)', (t) => {
  const headers = method.requestSerialize({ request_headers: { headers: { headers: [{ key: 'a', value: 'b' }] } } });
  const body = method.requestSerialize({ request_body: { body: Buffer.from('x') } });
  const m = decodeProcessingRequest(Buffer.concat([headers, body]));
  t.is(m.request, 'request_body');
  t.is(m.request_headers, undefined);
  t.is(m.request_body?.body?.toString(), 'x');
});

const nested = (depth: number): Struct =>
  depth === 0 ? toStruct({ leaf: 1 }) : { fields: { n: { structValue: nested(depth - 1) } } };

const malformed: { name: string; bytes: Buffer; error: RegExp }[] = [
  { name: 'length runs past the message', bytes: Buffer.from([0x12, 0x7f, 0x01]), error: /runs past/ },
  { name: 'varint cut short', bytes: Buffer.from([0x12, 0x80]), error: /truncated varint/ },
  { name: 'varint of 11 bytes', bytes: Buffer.from([0x50, ...Array(10).fill(0xff), 0x01]), error: /longer than 10/ },
  { name: 'group wire type', bytes: Buffer.from([0x5b]), error: /wire type 3/ },
  {
    name: 'request arm with a varint wire type',
    bytes: Buffer.from([0x10, 0x01]),
    error: /request_headers: wire type 0/,
  },
  {
    name: 'Struct nested deeper than 32',
    bytes: method.requestSerialize({ attributes: { deep: nested(40) } }),
    error: /nested deeper than 32/,
  },
];

for (const c of malformed) {
  test(`decode rejects bytes that are not a ProcessingRequest: ${c.name}`, (t) => {
    t.throws(() => decodeProcessingRequest(c.bytes), { message: c.error }, c.name);
  });
}

test('decode: every truncation of a real message either reads a prefix of its fields or throws an Error', (t) => {
  const bytes = method.requestSerialize({
    request_headers: {
      headers: { headers: [{ key: ':path', raw_value: Buffer.from('/a?b=c') }] },
      end_of_stream: true,
    },
    attributes: { f: toStruct({ s: 'x', n: 1.5, b: true, l: ['p', 'q'], o: { k: null } }) },
  });
  let answered = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      decodeProcessingRequest(bytes.subarray(0, n));
      answered++;
    } catch (err) {
      t.true(err instanceof Error, `prefix ${n}`);
      answered++;
    }
  }
  t.is(answered, bytes.length, 'every prefix was read or refused with an Error, none crashed differently');
});

// ── encoding ──

/** The message the service built for proto-loader before the hand-written encoder. */
function protoLoaderShape(r: Reply): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  if (r.arm.endsWith('trailers')) msg[r.arm] = {};
  else {
    const set = r.setHeaders ?? [];
    const remove = r.removeHeaders ?? [];
    const response: Record<string, unknown> = {};
    if (set.length > 0 || remove.length > 0)
      response.header_mutation = {
        set_headers: overwrite(
          set.map(([k, v]) => [k, v]),
          'raw',
        ),
        remove_headers: remove,
      };
    msg[r.arm] = { response };
  }
  if (r.metadata) msg.dynamic_metadata = toStruct({ [r.metadata.namespace]: r.metadata.attrs });
  if (r.modeOverride) msg.mode_override = r.modeOverride;
  return msg;
}

/** proto3 leaves zero enums out; proto-loader writes them when set: compare with defaults filled. */
function withModeDefaults(res: ProcessingResponse): ProcessingResponse {
  if (!res.mode_override) return res;
  const m: ProcessingMode = res.mode_override;
  return {
    ...res,
    mode_override: {
      request_header_mode: m.request_header_mode ?? 'DEFAULT',
      response_header_mode: m.response_header_mode ?? 'DEFAULT',
      request_body_mode: m.request_body_mode ?? 'NONE',
      response_body_mode: m.response_body_mode ?? 'NONE',
      request_trailer_mode: m.request_trailer_mode ?? 'DEFAULT',
      response_trailer_mode: m.response_trailer_mode ?? 'DEFAULT',
    },
  };
}

// Long strings cross the 1-byte (128) and 2-byte (16 KiB) length boundaries of nested messages.
const headerText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'binary', minLength: 100, maxLength: 400 }),
);
const attrValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ minLength: 120, maxLength: 300 }),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 8 }),
);
const headerMode = fc.constantFrom('DEFAULT', 'SEND', 'SKIP') as fc.Arbitrary<'DEFAULT' | 'SEND' | 'SKIP'>;
const bodyMode = fc.constantFrom('NONE', 'STREAMED', 'BUFFERED', 'BUFFERED_PARTIAL') as fc.Arbitrary<
  'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL'
>;
const replyArb: fc.Arbitrary<Reply> = fc.record(
  {
    arm: fc.constantFrom(...RESPONSE_ARMS),
    setHeaders: fc.array(fc.tuple(headerText, headerText), { maxLength: 6 }),
    removeHeaders: fc.array(headerText, { maxLength: 4 }),
    metadata: fc.record({
      namespace: fc.string({ maxLength: 20 }),
      attrs: fc.dictionary(key, attrValue, { maxKeys: 40 }),
    }),
    modeOverride: fc.record({
      request_header_mode: headerMode,
      response_header_mode: headerMode,
      request_body_mode: bodyMode,
      response_body_mode: bodyMode,
      request_trailer_mode: headerMode,
      response_trailer_mode: headerMode,
    }),
  },
  { requiredKeys: ['arm'] },
);

test('encode: any Reply reads back through proto-loader as the message the service used to build', (t) => {
  holds(
    t,
    fc.property(replyArb, (reply) => {
      const ours = withModeDefaults(method.responseDeserialize(encodeProcessingResponse(reply)));
      const theirs = withModeDefaults(method.responseDeserialize(method.responseSerialize(protoLoaderShape(reply))));
      if (!isDeepStrictEqual(ours, theirs))
        throw new Error(`differs:\n${JSON.stringify(ours)}\n${JSON.stringify(theirs)}`);
    }),
  );
});

test('encode: a 20 KiB header value and metadata list round-trip (3-byte lengths, buffer growth)', (t) => {
  const big = 'v'.repeat(20_000);
  const reply: Reply = {
    arm: 'request_headers',
    setHeaders: [['x-big', big]],
    metadata: { namespace: 'meshtrace', attrs: { list: Array(300).fill(big.slice(0, 100)), n: 0, f: false } },
  };
  const res = method.responseDeserialize(encodeProcessingResponse(reply));
  const set = res.request_headers?.response?.header_mutation?.set_headers ?? [];
  t.is(set[0]?.header.raw_value?.toString(), big);
  t.is(set[0]?.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
  const meta = fromStruct(res.dynamic_metadata).meshtrace as Record<string, Plain>;
  t.is((meta.list as string[]).length, 300);
  t.is(meta.n, 0);
  t.is(meta.f, false);
});

test('encode: an empty answer still names its arm (Envoy needs the oneof set)', (t) => {
  for (const arm of RESPONSE_ARMS) {
    const res = method.responseDeserialize(encodeProcessingResponse({ arm }));
    t.not(res[arm], undefined, arm);
    t.is(Object.keys(res).filter((k) => k !== 'response').length, 1, arm);
  }
  t.deepEqual(toStructValue('x'), { stringValue: 'x' });
});
