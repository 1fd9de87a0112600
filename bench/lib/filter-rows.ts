// The filter configurations and request headers of bench:filter's Wasm rows, shared with the
// TS-host bench (bench/filter-host.ts) so both measure the same thing.

/** Inbound W3C context on every request, so the filter exercises extraction and injection. */
export const TRACEPARENT = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

/** Export to the cluster named `collector`. */
export const SAMPLING_EXPORT_CONFIG = {
  service_name: 'bench-filter',
  export: { cluster: 'collector' },
  // The sampler runs every request through the trust boundary, a rule, the consistent
  // probability decision (rate 1, so every span is kept and exported — the worst case for
  // export) and the latency/error bias at the end of the stream.
  sampling: {
    probability: 1,
    trust: { boundary: 'internal' },
    rules: [{ match: { path_prefix: '/never-matches' }, action: 'never' }],
    latency: { threshold_ms: 1000 },
  },
};

export const BENCH_ROWS = [
  { name: 'filter', configuration: {}, headers: TRACEPARENT },
  { name: 'filter + sampling + export', configuration: SAMPLING_EXPORT_CONFIG, headers: TRACEPARENT },
];
