// Public entry of visualization/: the HTTP server (Jaeger-compatible query API, meshtrace
// analysis API, web UI), the Jaeger JSON model and the OTLP forwarder.
export { startVisualizationServer, type VisualizationServer, type VisualizationServerOptions } from './api/server.ts';
export { type SamplingStats, samplingStats } from './api/sampling-stats.ts';
export { type ServiceMap, type ServiceNode, serviceMap } from './api/service-map.ts';
export { type VersionRegressions, versionRegressions } from './api/version-regressions.ts';
export { type JaegerSpan, type JaegerTag, type JaegerTrace, toJaegerTrace } from './jaeger/to-jaeger.ts';
export { MAX_LIMIT, parseDurationUs, QueryError } from './jaeger/query-params.ts';
export { type ForwarderOptions, type ForwarderStats, OtlpForwarder } from './export/otlp-forwarder.ts';
export { teeStore } from './export/tee-store.ts';
