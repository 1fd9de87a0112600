// OTLP/protobuf ExportTraceServiceRequest bytes → SpanRows, in one pass over the body: no message
// objects, ids hex-encoded straight from the bytes, attribute keys and values copied into the
// attributes' JSON text without becoming strings, span and event names decoded once (intern.ts). The
// result is exactly what toSpans() gives for the same request decoded by the published generated
// module (schema.ts) — same spans, same JSON text in the store, same rejections and reasons; the
// test otlp-span-rows.test.ts holds the two side by side. Input that is not canonically encoded
// throws NotCanonical (wire.ts): the caller then takes the generated decoder's path.
//
// Field numbers and wire types: opentelemetry-proto v1 (stable since 1.0) —
//   collector/trace/v1  ExportTraceServiceRequest { resource_spans = 1 }
//   trace/v1   ResourceSpans { resource = 1, scope_spans = 2, schema_url = 3 }
//              ScopeSpans { scope = 1, spans = 2, schema_url = 3 }
//              Span { trace_id = 1, span_id = 2, trace_state = 3, parent_span_id = 4, name = 5,
//                     kind = 6, start_time_unix_nano = 7 (fixed64), end_time_unix_nano = 8,
//                     attributes = 9, dropped_attributes_count = 10, events = 11,
//                     dropped_events_count = 12, links = 13, dropped_links_count = 14, status = 15 }
//              Span.Event { time_unix_nano = 1, name = 2, attributes = 3, dropped_attributes_count = 4 }
//              Span.Link { trace_id = 1, span_id = 2, trace_state = 3, attributes = 4, dropped_attributes_count = 5 }
//              Status { message = 2, code = 3 }
//   resource/v1 Resource { attributes = 1, dropped_attributes_count = 2 }
//   common/v1  AnyValue { string_value = 1, bool_value = 2, int_value = 3, double_value = 4,
//                         array_value = 5, kvlist_value = 6, bytes_value = 7 }
//              ArrayValue { values = 1 }, KeyValueList { values = 1 }, KeyValue { key = 1, value = 2 }
//              InstrumentationScope { name = 1, version = 2, attributes = 3, dropped_attributes_count = 4 }
// Fields the generated module does not know (Span.flags = 16, Link.flags = 6) are skipped like
// any unknown field, as it does.
import { SpanResource, SpanRow } from '../span-row.ts';
import type { PbAnyValue, PbKeyValue } from './decoded.ts';
import { intern, MAX_INTERNED_BYTES } from './intern.ts';
import { JsonWriter } from './json-writer.ts';
import type { SpanLimits } from './limits.ts';
import { int64FromHalves, microsFromHalves } from './nanos.ts';
import { isSecretKey } from './redact.ts';
import { type Conversion, kindOf, Rejections, statusOf } from './to-spans.ts';
import { anyValue, attributes, cut } from './values.ts';
import { checkMessage, I64, LEN, type Layout, notCanonical, VARINT, WireReader } from './wire.ts';

const ANY_VALUE: Layout = { 1: LEN, 2: VARINT, 3: VARINT, 4: I64, 7: LEN };
const KEY_VALUE: Layout = { 1: LEN, 2: ANY_VALUE };
ANY_VALUE[5] = { 1: ANY_VALUE };
ANY_VALUE[6] = { 1: KEY_VALUE };
const SCOPE: Layout = { 1: LEN, 2: LEN, 3: KEY_VALUE, 4: VARINT };
const EVENT: Layout = { 1: I64, 2: LEN, 3: KEY_VALUE, 4: VARINT };
const LINK: Layout = { 1: LEN, 2: LEN, 3: LEN, 4: KEY_VALUE, 5: VARINT };
const STATUS: Layout = { 2: LEN, 3: VARINT };
const RESOURCE: Layout = { 1: KEY_VALUE, 2: VARINT };
const SPAN: Layout = {
  1: LEN,
  2: LEN,
  3: LEN,
  4: LEN,
  5: LEN,
  6: VARINT,
  7: I64,
  8: I64,
  9: KEY_VALUE,
  10: VARINT,
  11: EVENT,
  12: VARINT,
  13: LINK,
  14: VARINT,
  15: STATUS,
};

// The last three letters of every secret name redact.ts knows (authorization, cookie, api key,
// password, passwd, secret, token, bearer …) as 24-bit numbers: a key ending otherwise is not secret.
const SECRET_ENDINGS = new Set(
  ['ion', 'kie', 'key', 'ord', 'swd', 'ret', 'ken', 'rer'].map(
    (e) => (e.charCodeAt(0) << 16) | (e.charCodeAt(1) << 8) | e.charCodeAt(2),
  ),
);
const REDACTED_JSON = Buffer.from('"[REDACTED]"');
const NULL_JSON = Buffer.from('null');
const TRACE_ID_INVALID = 'trace_id missing, not 16 bytes or all zeros';
const SPAN_ID_INVALID = 'span_id missing, not 8 bytes or all zeros';

function expect(tag: number, wireType: number): void {
  if ((tag & 7) !== wireType) notCanonical(`field ${tag >>> 3} has wire type ${tag & 7}`);
}

function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

// Lowercase hex digit codes of every byte's high and low nibble; ids become strings in one
// String.fromCharCode call over a reused array (cheaper than Buffer#toString('hex') per id).
const HIGH = new Uint8Array(256);
const LOW = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  HIGH[b] = '0123456789abcdef'.charCodeAt(b >> 4);
  LOW[b] = '0123456789abcdef'.charCodeAt(b & 15);
}
const HEX_CODES: Record<number, number[]> = { 8: new Array(16).fill(0), 16: new Array(32).fill(0) };

/** parseId for bytes [start, end): '' absent (start < 0 or empty), null malformed or all zeros. */
function id(buf: Buffer, start: number, end: number, size: 16 | 8): string | null {
  if (start < 0 || end === start) return '';
  if (end - start !== size || allZero(buf, start, end)) return null;
  const codes = HEX_CODES[size] as number[];
  for (let i = 0; i < size; i++) {
    const b = buf[start + i] as number;
    codes[2 * i] = HIGH[b] as number;
    codes[2 * i + 1] = LOW[b] as number;
  }
  return String.fromCharCode.apply(null, codes);
}

/** Growable list of [start, end) pairs, reused from span to span. */
class Ranges {
  at: number[] = [];
  length = 0;

  push(start: number, end: number): void {
    this.at[this.length++] = start;
    this.at[this.length++] = end;
  }
}

// One writer for all requests: decoding is synchronous, and its buffer is reused.
const writer = new JsonWriter();

class SpanRowDecoder {
  readonly r: WireReader;
  readonly w = writer;
  readonly rows: SpanRow[] = [];
  readonly rejections = new Rejections();
  private readonly attrs = new Ranges();
  private readonly nested = new Ranges();
  private readonly events = new Ranges();
  private readonly links = new Ranges();
  /** Where this list's keys so far are, for duplicate detection. */
  private readonly keyAt = new Ranges();

  constructor(
    readonly buf: Buffer,
    readonly limits: SpanLimits,
  ) {
    this.r = new WireReader(buf);
    this.w.reset(); // a previous request may have stopped half-way (NotCanonical)
  }

  private text(start: number, end: number): string {
    return end - start <= MAX_INTERNED_BYTES
      ? intern(this.buf, start, end).text
      : this.buf.toString('utf8', start, end);
  }

  request(): void {
    const { r } = this;
    const end = this.buf.length;
    let i = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      if (tag >>> 3 === 1) {
        expect(tag, LEN);
        const stop = r.delimited(end);
        this.resourceSpans(stop, i++);
        r.pos = stop;
      } else r.skip(tag & 7, end);
    }
  }

  private resourceSpans(end: number, i: number): void {
    const { r } = this;
    let resStart = -1;
    let resEnd = -1;
    const scopes: number[] = [];
    while (r.pos < end) {
      const tag = r.tag(end);
      const field = tag >>> 3;
      if (field === 1 || field === 2 || field === 3) {
        expect(tag, LEN);
        const stop = r.delimited(end);
        if (field === 1) {
          // the last one wins, as in the generated decoder — which still decodes every earlier
          // one: a malformed one must fail here too
          if (resStart >= 0) this.check(resStart, resEnd, RESOURCE);
          resStart = r.pos;
          resEnd = stop;
        } else if (field === 2) scopes.push(r.pos, stop);
        r.pos = stop;
      } else r.skip(tag & 7, end);
    }
    let json = '{}';
    if (resStart >= 0) {
      r.pos = resStart;
      const list = this.attrs;
      list.length = 0;
      while (r.pos < resEnd) {
        const tag = r.tag(resEnd);
        const field = tag >>> 3;
        if (field === 1) {
          expect(tag, LEN);
          const stop = r.delimited(resEnd);
          list.push(r.pos, stop);
          r.pos = stop;
        } else if (field === 2) {
          expect(tag, VARINT);
          r.varint64(resEnd);
        } else r.skip(tag & 7, resEnd);
      }
      this.keyValues(list);
      json = this.w.take();
    }
    const name = (JSON.parse(json) as Record<string, unknown>)['service.name'];
    const resource = new SpanResource(json, typeof name === 'string' && name !== '' ? name : 'unknown_service');
    for (let j = 0; j < scopes.length; j += 2) {
      r.pos = scopes[j] as number;
      this.scopeSpans(scopes[j + 1] as number, resource, i, j / 2);
    }
  }

  private scopeSpans(end: number, resource: SpanResource, i: number, j: number): void {
    const { r } = this;
    let k = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      const field = tag >>> 3;
      if (field === 1 || field === 2 || field === 3) {
        expect(tag, LEN);
        const stop = r.delimited(end);
        if (field === 1) checkMessage(r, stop, SCOPE);
        else if (field === 2) this.span(stop, resource, i, j, k++);
        r.pos = stop;
      } else r.skip(tag & 7, end);
    }
  }

  private span(end: number, resource: SpanResource, i: number, j: number, k: number): void {
    const { r, buf, limits } = this;
    const begin = r.pos;
    let traceS = -1;
    let traceE = -1;
    let spanS = -1;
    let spanE = -1;
    let parentS = -1;
    let parentE = -1;
    let stateS = -1;
    let stateE = -1;
    let nameS = -1;
    let nameE = -1;
    let statusS = -1;
    let statusE = -1;
    let kind: number | null = null;
    let startLo = 0;
    let startHi = 0;
    let hasStart = false;
    let endLo = 0;
    let endHi = 0;
    let hasEnd = false;
    const attrs = this.attrs;
    const events = this.events;
    const links = this.links;
    attrs.length = 0;
    events.length = 0;
    links.length = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      switch (tag >>> 3) {
        case 6:
          expect(tag, VARINT);
          r.varint64(end);
          kind = r.lo | 0; // int32
          break;
        case 7:
          expect(tag, I64);
          r.fixed64(end);
          startLo = r.lo;
          startHi = r.hi;
          hasStart = true;
          break;
        case 8:
          expect(tag, I64);
          r.fixed64(end);
          endLo = r.lo;
          endHi = r.hi;
          hasEnd = true;
          break;
        case 10:
        case 12:
        case 14:
          expect(tag, VARINT);
          r.varint64(end);
          break;
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 9:
        case 11:
        case 13:
        case 15: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          const s = r.pos;
          switch (tag >>> 3) {
            case 1:
              traceS = s;
              traceE = stop;
              break;
            case 2:
              spanS = s;
              spanE = stop;
              break;
            case 3:
              stateS = s;
              stateE = stop;
              break;
            case 4:
              parentS = s;
              parentE = stop;
              break;
            case 5:
              nameS = s;
              nameE = stop;
              break;
            case 9:
              attrs.push(s, stop);
              break;
            case 11:
              events.push(s, stop);
              break;
            case 13:
              links.push(s, stop);
              break;
            default:
              if (statusS >= 0) this.check(statusS, statusE, STATUS); // as resource in resourceSpans()
              statusS = s;
              statusE = stop;
          }
          r.pos = stop;
          break;
        }
        default:
          r.skip(tag & 7, end);
      }
    }

    // the checks and their order are convertSpan's (to-spans.ts)
    let reason: string | null = null;
    const traceId = id(buf, traceS, traceE, 16);
    const spanId = traceId ? id(buf, spanS, spanE, 8) : null;
    let parent: string | null = null;
    let startUs: number | null = null;
    let endUs: number | null = null;
    if (!traceId) reason = TRACE_ID_INVALID;
    else if (!spanId) reason = SPAN_ID_INVALID;
    else {
      parent = id(buf, parentS, parentE, 8);
      startUs = hasStart ? microsFromHalves(startLo, startHi) : null;
      endUs = hasEnd ? microsFromHalves(endLo, endHi) : null;
      if (parent === null && !(parentE - parentS === 8 && allZero(buf, parentS, parentE)))
        reason = 'parent_span_id must be empty or 8 bytes';
      else if (startUs === null) reason = 'start_time_unix_nano missing or invalid';
      else if (endUs === null) reason = 'end_time_unix_nano missing or invalid';
      else if (endUs < startUs) reason = 'end_time_unix_nano before start_time_unix_nano';
    }
    if (reason !== null) {
      // the generated decoder would still have read the whole span: check its nested parts too
      r.pos = begin;
      checkMessage(r, end, SPAN);
      this.rejections.add(reason, `resource_spans[${i}].scope_spans[${j}].spans[${k}]`);
      return;
    }

    const w = this.w;
    this.keyValues(attrs);
    const attributesJson = w.take();

    let statusCode: number | null | undefined;
    let statusMessage = '';
    if (statusS >= 0) {
      statusCode = null;
      r.pos = statusS;
      let msgS = -1;
      let msgE = -1;
      while (r.pos < statusE) {
        const tag = r.tag(statusE);
        const field = tag >>> 3;
        if (field === 2) {
          expect(tag, LEN);
          msgE = r.delimited(statusE);
          msgS = r.pos;
          r.pos = msgE;
        } else if (field === 3) {
          expect(tag, VARINT);
          r.varint64(statusE);
          statusCode = r.lo | 0;
        } else r.skip(tag & 7, statusE);
      }
      if (msgS >= 0) statusMessage = buf.toString('utf8', msgS, msgE).slice(0, limits.maxValueChars);
    }

    // extra: {statusMessage?, events?, links?, traceState?} in extraJson()'s order (span-row.ts)
    let fields = 0;
    if (statusMessage !== '') {
      w.ascii(fields++ === 0 ? '{"statusMessage":' : ',"statusMessage":');
      w.string(statusMessage);
    }
    if (events.length > 0) {
      w.ascii(fields++ === 0 ? '{"events":[' : ',"events":[');
      const n = events.length / 2;
      for (let e = 0; e < n; e++) {
        const s = events.at[2 * e] as number;
        const stop = events.at[2 * e + 1] as number;
        r.pos = s;
        if (e < limits.maxEvents) {
          if (e > 0) w.byte(0x2c);
          this.event(stop, startUs as number);
        } else checkMessage(r, stop, EVENT);
      }
      w.byte(0x5d);
    }
    if (links.length > 0) {
      let written = 0;
      const n = links.length / 2;
      for (let l = 0; l < n; l++) {
        const s = links.at[2 * l] as number;
        const stop = links.at[2 * l + 1] as number;
        r.pos = s;
        if (l >= limits.maxLinks || !this.link(stop, written === 0 ? (fields === 0 ? 0 : 1) : 2)) {
          r.pos = s;
          checkMessage(r, stop, LINK);
          continue;
        }
        if (written++ === 0) fields++;
      }
      if (written > 0) w.byte(0x5d);
    }
    if (stateS >= 0) {
      const traceState = buf.toString('utf8', stateS, stateE);
      if (traceState !== '') {
        w.ascii(fields++ === 0 ? '{"traceState":' : ',"traceState":');
        w.string(traceState.slice(0, 512)); // W3C caps tracestate at 512 chars
      }
    }
    let extraJson: string | null = null;
    if (fields > 0) {
      w.byte(0x7d);
      extraJson = w.take();
    }

    let name = nameS >= 0 ? this.text(nameS, nameE) : '';
    if (name.length > limits.maxValueChars) name = name.slice(0, limits.maxValueChars);
    this.rows.push(
      new SpanRow(
        traceId as string,
        spanId as string,
        parent || null,
        name,
        kindOf(kind),
        resource,
        startUs as number,
        endUs as number,
        statusOf(statusCode),
        attributesJson,
        extraJson,
      ),
    );
  }

  /** One event object; r.pos is at its first field. */
  private event(end: number, startUs: number): void {
    const { r, w, limits } = this;
    let timeUs: number | null = null;
    let nameS = -1;
    let nameE = -1;
    const list = this.nested;
    list.length = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      switch (tag >>> 3) {
        case 1:
          expect(tag, I64);
          r.fixed64(end);
          timeUs = microsFromHalves(r.lo, r.hi);
          break;
        case 2:
          expect(tag, LEN);
          nameE = r.delimited(end);
          nameS = r.pos;
          r.pos = nameE;
          break;
        case 3: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          list.push(r.pos, stop);
          r.pos = stop;
          break;
        }
        case 4:
          expect(tag, VARINT);
          r.varint64(end);
          break;
        default:
          r.skip(tag & 7, end);
      }
    }
    w.ascii(`{"timeUs":${timeUs ?? startUs},"name":`);
    if (nameS < 0) w.ascii('""');
    else if (nameE - nameS <= MAX_INTERNED_BYTES) {
      const name = intern(this.buf, nameS, nameE);
      if (name.text.length <= limits.maxValueChars) w.bytes(name.jsonBytes());
      else w.string(name.text.slice(0, limits.maxValueChars));
    } else w.string(this.buf.toString('utf8', nameS, nameE).slice(0, limits.maxValueChars));
    w.ascii(',"attributes":');
    this.keyValues(list);
    w.byte(0x7d);
  }

  /**
   * One link object, written when both its ids are valid (else false, nothing written).
   * `lead`: 0 = opens the extra object, 1 = first link after other fields, 2 = a later link.
   */
  private link(end: number, lead: number): boolean {
    const { r, w, buf } = this;
    let traceS = -1;
    let traceE = -1;
    let spanS = -1;
    let spanE = -1;
    const list = this.nested;
    list.length = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      const field = tag >>> 3;
      if (field >= 1 && field <= 4) {
        expect(tag, LEN);
        const stop = r.delimited(end);
        if (field === 1) {
          traceS = r.pos;
          traceE = stop;
        } else if (field === 2) {
          spanS = r.pos;
          spanE = stop;
        } else if (field === 3) {
          /* trace_state: not kept for links */
        } else list.push(r.pos, stop);
        r.pos = stop;
      } else if (field === 5) {
        expect(tag, VARINT);
        r.varint64(end);
      } else r.skip(tag & 7, end);
    }
    const traceId = id(buf, traceS, traceE, 16);
    const spanId = id(buf, spanS, spanE, 8);
    if (!traceId || !spanId) return false; // a link to nothing carries no information
    w.ascii(lead === 0 ? '{"links":[' : lead === 1 ? ',"links":[' : ',');
    w.ascii(`{"traceId":"${traceId}","spanId":"${spanId}","attributes":`);
    this.keyValues(list);
    w.byte(0x7d);
    return true;
  }

  /**
   * A KeyValue list as the JSON text of attributes(list) (values.ts): redaction, limits and value
   * rendering the same. Duplicate keys, keys that may be array indices (which objects order first)
   * or more entries than maxAttributes take the generic route.
   */
  private keyValues(list: Ranges): void {
    const { r, w, buf, limits } = this;
    const n = list.length / 2;
    if (n > limits.maxAttributes) {
      this.genericKeyValues(list);
      return;
    }
    const begin = w.pos;
    const keyAt = this.keyAt;
    keyAt.length = 0;
    w.byte(0x7b);
    for (let e = 0; e < n; e++) {
      const end = list.at[2 * e + 1] as number;
      r.pos = list.at[2 * e] as number;
      let keyS = -1;
      let keyE = -1;
      let valS = -1;
      let valE = -1;
      while (r.pos < end) {
        const tag = r.tag(end);
        const field = tag >>> 3;
        if (field === 1 || field === 2) {
          expect(tag, LEN);
          const stop = r.delimited(end);
          if (field === 1) {
            keyS = r.pos;
            keyE = stop;
          } else {
            if (valS >= 0) this.check(valS, valE, ANY_VALUE); // as resource in resourceSpans()
            valS = r.pos;
            valE = stop;
          }
          r.pos = stop;
        } else r.skip(tag & 7, end);
      }
      if (keyS < 0 || keyE === keyS) {
        if (valS >= 0) {
          r.pos = valS;
          checkMessage(r, valE, ANY_VALUE);
        }
        continue;
      }
      const first = buf[keyS] as number;
      if (first >= 0x30 && first <= 0x39) {
        // possibly an array index ("8"): objects, and so JSON.stringify, put those first
        w.pos = begin;
        this.genericKeyValues(list);
        return;
      }
      // keys (printable ASCII, no escapes, ≤ 256 bytes — the common case) are copied and compared as
      // bytes; any other key sends the list the generic way
      const klen = keyE - keyS;
      if (klen > 256 || this.seenKey(keyS, keyE) || !w.asciiKey(buf, keyS, keyE, keyAt.length > 0)) {
        w.pos = begin;
        this.genericKeyValues(list);
        return;
      }
      keyAt.push(keyS, keyE);
      let secret = false;
      if (klen >= 5) {
        // every name isSecretKey matches ends in one of SECRET_ENDINGS (ASCII letters, any case)
        const end3 = (((buf[keyE - 3] as number) | 0x20) << 16) | (((buf[keyE - 2] as number) | 0x20) << 8);
        if (SECRET_ENDINGS.has(end3 | ((buf[keyE - 1] as number) | 0x20)))
          secret = isSecretKey(buf.toString('latin1', keyS, keyE));
      }
      if (secret) {
        if (valS >= 0) {
          r.pos = valS;
          checkMessage(r, valE, ANY_VALUE);
        }
        w.bytes(REDACTED_JSON);
      } else if (valS < 0) w.bytes(NULL_JSON);
      else this.value(valS, valE);
    }
    w.byte(0x7d);
  }

  /** checkMessage over buf[start, end) without losing the reader's place. */
  private check(start: number, end: number, layout: Layout): void {
    const { r } = this;
    const at = r.pos;
    r.pos = start;
    checkMessage(r, end, layout);
    r.pos = at;
  }

  /** Whether bytes equal to buf[start, end) are among this list's keys so far. */
  private seenKey(start: number, end: number): boolean {
    const { buf, keyAt } = this;
    const n = end - start;
    for (let p = 0; p < keyAt.length; p += 2) {
      const at = keyAt.at[p] as number;
      if ((keyAt.at[p + 1] as number) - at !== n) continue;
      let q = 0;
      while (q < n && buf[at + q] === buf[start + q]) q++;
      if (q === n) return true;
    }
    return false;
  }

  /** attributes() over the list decoded into message objects: the rare shapes, same semantics. */
  private genericKeyValues(list: Ranges): void {
    const kvs: PbKeyValue[] = [];
    for (let e = 0; e < list.length; e += 2) {
      this.r.pos = list.at[e] as number;
      kvs.push(this.keyValueObject(list.at[e + 1] as number));
    }
    this.w.json(JSON.stringify(attributes(kvs, this.limits)));
  }

  /** A top-level AnyValue's JSON; one scalar member is written directly, anything else via anyValue(). */
  private value(start: number, end: number): void {
    const { r, w, buf, limits } = this;
    r.pos = start;
    let members = 0;
    let field = 0;
    let s = 0;
    let e = 0;
    let d = 0;
    let lo = 0;
    let hi = 0;
    while (r.pos < end) {
      const tag = r.tag(end);
      const f = tag >>> 3;
      switch (f) {
        case 1:
        case 5:
        case 6:
        case 7:
          expect(tag, LEN);
          e = r.delimited(end);
          s = r.pos;
          r.pos = e;
          break;
        case 2:
        case 3:
          expect(tag, VARINT);
          r.varint64(end);
          lo = r.lo; // kept: skipping an unknown varint field would overwrite r.lo/hi
          hi = r.hi;
          break;
        case 4:
          expect(tag, I64);
          d = r.double(end);
          break;
        default:
          r.skip(tag & 7, end);
          continue;
      }
      members++;
      field = f;
    }
    if (members === 0) w.bytes(NULL_JSON);
    else if (members > 1 || field >= 5) {
      r.pos = start;
      w.json(JSON.stringify(anyValue(this.anyValueObject(end), limits, 0)));
    } else if (field === 1) {
      if (e - s > limits.maxValueChars || !w.utf8String(buf, s, e)) w.string(cut(buf.toString('utf8', s, e), limits));
    } else if (field === 2)
      w.ascii(lo !== 0 ? 'true' : 'false'); // bool is read as uint32 != 0
    else if (field === 3) {
      const v = int64FromHalves(lo, hi);
      if (typeof v === 'number') w.ascii(String(v));
      else w.string(v);
    } else if (Number.isFinite(d)) w.ascii(String(d));
    else w.string(String(d));
  }

  /** AnyValue as the generated decoder builds it (every member present, the last of each kept). */
  private anyValueObject(end: number): PbAnyValue {
    const { r, buf } = this;
    const v: PbAnyValue = {};
    while (r.pos < end) {
      const tag = r.tag(end);
      switch (tag >>> 3) {
        case 1: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          v.stringValue = buf.toString('utf8', r.pos, stop);
          r.pos = stop;
          break;
        }
        case 2:
          expect(tag, VARINT);
          r.varint64(end);
          v.boolValue = r.lo !== 0;
          break;
        case 3:
          expect(tag, VARINT);
          r.varint64(end);
          v.intValue = { low: r.lo | 0, high: r.hi | 0, unsigned: false };
          break;
        case 4:
          expect(tag, I64);
          v.doubleValue = r.double(end);
          break;
        case 5: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          const values: PbAnyValue[] = [];
          while (r.pos < stop) {
            const t = r.tag(stop);
            if (t >>> 3 === 1) {
              expect(t, LEN);
              const s = r.delimited(stop);
              values.push(this.anyValueObject(s));
              r.pos = s;
            } else r.skip(t & 7, stop);
          }
          v.arrayValue = { values };
          break;
        }
        case 6: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          const values: PbKeyValue[] = [];
          while (r.pos < stop) {
            const t = r.tag(stop);
            if (t >>> 3 === 1) {
              expect(t, LEN);
              const s = r.delimited(stop);
              values.push(this.keyValueObject(s));
              r.pos = s;
            } else r.skip(t & 7, stop);
          }
          v.kvlistValue = { values };
          break;
        }
        case 7: {
          expect(tag, LEN);
          const stop = r.delimited(end);
          v.bytesValue = buf.subarray(r.pos, stop);
          r.pos = stop;
          break;
        }
        default:
          r.skip(tag & 7, end);
      }
    }
    return v;
  }

  private keyValueObject(end: number): PbKeyValue {
    const { r, buf } = this;
    const kv: PbKeyValue = { key: null, value: null };
    while (r.pos < end) {
      const tag = r.tag(end);
      const field = tag >>> 3;
      if (field === 1 || field === 2) {
        expect(tag, LEN);
        const stop = r.delimited(end);
        if (field === 1) kv.key = buf.toString('utf8', r.pos, stop);
        else kv.value = this.anyValueObject(stop);
        r.pos = stop;
      } else r.skip(tag & 7, end);
    }
    return kv;
  }
}

/** Decodes a protobuf ExportTraceServiceRequest into SpanRows; throws NotCanonical (see wire.ts). */
export function decodeSpanRows(body: Uint8Array, limits: SpanLimits): Conversion {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const d = new SpanRowDecoder(buf, limits);
  d.request();
  return { spans: d.rows, rejected: d.rejections.count, errorMessage: d.rejections.message() };
}
