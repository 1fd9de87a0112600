// `meshtrace generate --out dir [--traces N] [--seed S]` — synthetic traces with known answers
// (analysis/generate/workload.ts): spans.jsonl plus ground-truth.json beside it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type Topology, validateTopology } from '../../analysis/generate/topology.ts';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import { writeWorkload } from '../../analysis/generate/workload-files.ts';

export const summary = 'write synthetic traces with injected anomalies and their ground truth (--out dir)';

const USAGE = `usage: meshtrace generate --out <dir> [--traces N] [--seed S] [--rate R] [--sampling-threshold TH] [--topology FILE] [--no-anomalies]

  --out DIR               where spans.jsonl and ground-truth.json are written (created)
  --traces N              requests to simulate (default 1000)
  --seed S                PRNG seed, an integer (default 1); same seed, same traces
  --rate R                mean requests per second (default 100)
  --sampling-threshold TH keep only traces passing the OTel threshold ot=th:TH (e.g. c = 1 in 4)
  --topology FILE         services and operations as YAML or JSON (see analysis/generate/topology.ts);
                          the default anomalies apply where their operations exist in it
  --no-anomalies          no slow operation, errors, regression or capacity limit`;

function intArg(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}

class UsageError extends Error {}

export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        traces: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        'sampling-threshold': { type: 'string' },
        'no-anomalies': { type: 'boolean' },
        topology: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.out) throw new UsageError('--out <dir> is required');
    const traces = intArg('traces', values.traces, 1000, 0);
    const seed = intArg('seed', values.seed, 1, 0);
    const rate = values.rate === undefined ? 100 : Number(values.rate);
    if (!(rate > 0)) throw new UsageError(`--rate must be a number > 0, got "${values.rate}"`);
    const options = {
      ...defaultWorkloadOptions(traces, seed),
      ratePerS: rate,
      samplingThreshold: values['sampling-threshold'] ?? null,
    };
    if (values.topology) {
      const topology = parseYaml(readFileSync(values.topology, 'utf8')) as Topology;
      const problems = validateTopology(topology);
      if (problems.length) throw new UsageError(`${values.topology}: invalid topology:\n  ${problems.join('\n  ')}`);
      const has = (ref: string | undefined) => ref !== undefined && topology.operations[ref] !== undefined;
      const reg = options.regression;
      Object.assign(options, {
        topology,
        slow: has(options.slow?.operation) ? options.slow : null,
        error: has(options.error?.operation) ? options.error : null,
        capacity: has(options.capacity?.operation) ? options.capacity : null,
        regression: reg && has(`${reg.service}/${reg.operation}`) && has(`${reg.service}/${reg.control}`) ? reg : null,
      });
    }
    if (values['no-anomalies'])
      Object.assign(options, { slow: null, error: null, handledErrorRate: 0, regression: null, capacity: null });
    const w = generateWorkload(options);
    const { spansPath, truthPath } = writeWorkload(values.out, w);
    console.log(`${w.truth.keptTraces} traces, ${w.spans.length} spans → ${spansPath}`);
    console.log(`ground truth → ${truthPath}`);
    if (w.truth.bottleneck) console.log(`  bottleneck: ${w.truth.bottleneck.service}/${w.truth.bottleneck.operation}`);
    if (w.truth.errorOrigin)
      console.log(
        `  error origin: ${w.truth.errorOrigin.service}/${w.truth.errorOrigin.operation} in ${w.truth.errors.length} traces`,
      );
    if (w.truth.regression) {
      const r = w.truth.regression;
      console.log(`  regression: ${r.service}/${r.operation} ×${r.factor} from ${r.fromVersion} to ${r.toVersion}`);
    }
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`meshtrace generate: ${(e as Error).message}${usage ? `\n\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  }
}
