// Propagation format names as they appear in plugin config and the vector file.

export enum Format {
  W3c = 0,
  B3 = 1,
  B3Multi = 2,
  Jaeger = 3,
}

export const FORMAT_NAMES: string[] = ['w3c', 'b3', 'b3multi', 'jaeger'];

/** The format for a config name, or -1 when unknown. */
export function formatFromName(name: string): i32 {
  return FORMAT_NAMES.indexOf(name);
}

export function defaultInboundFormats(): i32[] {
  return [Format.W3c, Format.B3, Format.B3Multi, Format.Jaeger];
}

/** Every header name any format reads or writes (stale ones are removed before injecting). */
export const PROPAGATION_HEADERS: string[] = [
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'uber-trace-id',
];
