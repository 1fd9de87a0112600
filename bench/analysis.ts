// `npm run bench:analysis` — the analysis benches: collector ingest (bench/analysis/ingest.ts) and,
// appended by the analyses, critical-path timing. Each section prints its own figures and ratios.
// The script runs Node with --max-semi-space-size=64: ingest allocates many short-lived objects
// per span, and a larger young generation keeps them out of the old generation (the collector
// CLI is best run with the same flag).
import { ingestBench } from './analysis/ingest.ts';

console.log('## collector ingest (OTLP/HTTP protobuf → DuckDB)');
await ingestBench();
