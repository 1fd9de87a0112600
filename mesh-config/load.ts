// Reads meshtrace.yaml: YAML → JSON Schema validation (defaults filled in) → cross-field checks.
// Every problem becomes one line `<file>: <path>: <message>`, the path written the way a user
// navigates the file (`sampling.rules[2].rate`), never Ajv's JSON pointer.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { meshtraceSchema } from './schema.ts';
import type { MeshtraceConfig } from './types.ts';

export class ConfigError extends Error {
  /** One line per problem, each already prefixed with the file name. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateSchema = ajv.compile(meshtraceSchema);

/** `/sampling/rules/2/rate` → `sampling.rules[2].rate`. */
export function displayPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(top level)' : out;
}

function describe(err: ErrorObject): { path: string; message: string } | undefined {
  const at = displayPath(err.instancePath);
  const child = (name: string) =>
    displayPath(`${err.instancePath}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return { path: child(String(p.additionalProperty)), message: 'unknown field' };
    case 'required':
      return { path: child(String(p.missingProperty)), message: 'is required' };
    case 'enum':
      return {
        path: at,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'maximum':
      return { path: at, message: `must be ≤ ${p.limit}` };
    case 'minimum':
      return { path: at, message: `must be ≥ ${p.limit}` };
    case 'type':
      return {
        path: at,
        message: `must be ${p.type === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(String(p.type)) ? 'n' : ''} ${p.type}`}`,
      };
    case 'pattern':
      return { path: at, message: patternHint(err.schemaPath) };
    case 'not':
      return { path: at, message: 'names a credential header, which is never copied into spans' };
    case 'uniqueItems':
      return { path: at, message: `has a duplicate entry (items ${p.j} and ${p.i})` };
    case 'minItems':
      return { path: at, message: `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}` };
    case 'maxItems':
      return { path: at, message: `must have at most ${p.limit} items` };
    case 'maxLength':
      return { path: at, message: `must be at most ${p.limit} characters` };
    case 'minLength':
      return { path: at, message: 'must not be empty' };
    case 'maxProperties':
      return { path: at, message: `must have at most ${p.limit} entries` };
    case 'propertyNames':
      return { path: child(String(p.propertyName)), message: 'is not a valid key here' };
    case 'exclusiveMinimum':
      return { path: at, message: `must be > ${p.limit}` };
    case 'if':
    case 'anyOf':
      return undefined; // the branch's own error (e.g. `required`) names the field
    default:
      return { path: at, message: err.message ?? err.keyword };
  }
}

/** Human wording for a failed `pattern`, chosen by which schema field it guards. */
function patternHint(schemaPath: string): string {
  if (schemaPath.includes('/wasm/properties/url/')) return 'must start with oci://, https:// or file:///';
  if (schemaPath.includes('/sha256/')) return 'must be 64 lowercase hex digits (sha256 of the .wasm)';
  if (schemaPath.includes('/collector/properties/endpoint/')) return 'must be an http:// or https:// URL';
  if (schemaPath.includes('/address/') || schemaPath.includes('/upstreams/')) return 'must be host:port';
  if (schemaPath.includes('/cidrs/')) return 'must be a CIDR such as 10.0.0.0/8';
  if (schemaPath.includes('prefix')) return 'must start with /';
  if (schemaPath.includes('/header/')) return 'must be a lowercase header name';
  return 'must be a lowercase DNS label (a-z, 0-9, -)';
}

/** Checks JSON Schema cannot express: references between sections, port clashes. */
function crossChecks(cfg: MeshtraceConfig): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const names = new Map<string, number>();
  cfg.services.forEach((s, i) => {
    const prev = names.get(s.name);
    if (prev !== undefined)
      out.push({ path: `services[${i}].name`, message: `duplicates services[${prev}].name "${s.name}"` });
    else names.set(s.name, i);
  });
  cfg.services.forEach((s, i) => {
    s.dependencies.forEach((d, j) => {
      if (!names.has(d.service))
        out.push({
          path: `services[${i}].dependencies[${j}].service`,
          message: `names no service in services: "${d.service}"`,
        });
      if (d.service === s.name)
        out.push({ path: `services[${i}].dependencies[${j}].service`, message: 'a service cannot depend on itself' });
    });
  });
  cfg.gateway.routes.forEach((r, i) => {
    if (!names.has(r.service))
      out.push({ path: `gateway.routes[${i}].service`, message: `names no service in services: "${r.service}"` });
  });
  // Local listener ports: one owner each, or Envoy fails to bind.
  const ports = new Map<number, string>();
  const claim = (port: number | undefined, path: string) => {
    if (port === undefined) return;
    const prev = ports.get(port);
    if (prev !== undefined) out.push({ path, message: `port ${port} is already used by ${prev}` });
    else ports.set(port, path);
  };
  claim(cfg.gateway.port, 'gateway.port');
  if (cfg.load_balancer) claim(cfg.load_balancer.port, 'load_balancer.port');
  cfg.services.forEach((s, i) => {
    claim(s.sidecar.inbound_port, `services[${i}].sidecar.inbound_port`);
    s.dependencies.forEach((d, j) => {
      claim(d.listen_port, `services[${i}].dependencies[${j}].listen_port`);
    });
  });
  return out;
}

/** Validates an already-parsed document; `file` only labels the messages. */
export function parseConfig(doc: unknown, file = 'meshtrace.yaml'): MeshtraceConfig {
  const label = basename(file);
  const data = structuredClone(doc ?? {});
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError([`${label}: (top level): must be a mapping`]);
  if (!validateSchema(data)) {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const err of validateSchema.errors ?? []) {
      // `not`/`enum` inside an `items` also report the enclosing failure; keep the first per path.
      const d = describe(err);
      if (!d) continue;
      const line = `${label}: ${d.path}: ${d.message}`;
      if (seen.has(d.path)) continue;
      seen.add(d.path);
      lines.push(line);
    }
    throw new ConfigError(lines);
  }
  const cfg = data as unknown as MeshtraceConfig;
  for (const s of cfg.services) s.labels ??= { app: s.name };
  const problems = crossChecks(cfg);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${label}: ${p.path}: ${p.message}`));
  return cfg;
}

/** Parses YAML text; syntax errors are reported with line and column. */
export function parseConfigText(text: string, file = 'meshtrace.yaml'): MeshtraceConfig {
  const label = basename(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const where = `${pos.line}:${pos.col}`;
        return `${label}:${where}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return parseConfig(doc.toJS(), file);
}

export function loadConfig(file: string): MeshtraceConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${basename(file)}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    ]);
  }
  return parseConfigText(text, file);
}
