// `npm run bench:analysis` — the two analysis figures in one run: collector ingest
// (bench/analysis/ingest.ts) and critical-path time for a 10,000-span trace
// (bench/analysis-critical-path.ts, also runnable alone as `npm run bench:critical-path`).
// Each section prints its own figures and ratios vs a baseline measured in the same run.
// The script runs Node with --max-semi-space-size=64: ingest allocates many short-lived objects
// per span, and a larger young generation keeps them out of the old generation (the collector
// CLI is best run with the same flag).
import { criticalPathBench } from './analysis-critical-path.ts';
import { ingestBench } from './analysis/ingest.ts';

console.log('## collector ingest (OTLP/HTTP protobuf → DuckDB)');
await ingestBench();
console.log('\n## critical path of a 10,000-span trace');
criticalPathBench();
