// Per-span bounds applied while converting (the collector never stores unbounded data). Defaults
// follow the OpenTelemetry SDK span limits (spec "Span Limits": 128 attributes, events, links);
// string values are cut at maxValueChars with a trailing marker so truncation is visible.
export interface SpanLimits {
  maxAttributes: number;
  maxEvents: number;
  maxLinks: number;
  maxValueChars: number;
  maxArrayValues: number;
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = {
  maxAttributes: 128,
  maxEvents: 128,
  maxLinks: 128,
  maxValueChars: 4096,
  maxArrayValues: 128,
};
