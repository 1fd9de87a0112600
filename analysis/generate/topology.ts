// The service topology the generator simulates: services (with hosts, each host's clock skew
// and the deployed version) and operations (self time, the calls they make and how).
//
// Call modes and what they produce:
//   sequential  client span in the caller, server span in the callee, one after another
//   parallel    consecutive parallel calls start together; the caller waits for the slowest
//   async       a short producer span in the caller; the callee's consumer span starts after
//               a queue delay and may outlive the whole request (fire-and-forget)
// `fanOut` repeats a call (parallel: at once; sequential: one after another).

export type CallMode = 'sequential' | 'parallel' | 'async';

export interface CallSpec {
  to: string; // "service/operation"
  mode: CallMode;
  fanOut?: number; // default 1
  probability?: number; // chance the call happens at all; default 1
}

export interface OperationSpec {
  selfUs: number; // median own work, µs (log-normal, shape `sigma`)
  sigma?: number; // default 0.25
  calls?: CallSpec[];
  /** A numeric attribute recorded on the server span, drawn uniformly from [min, max]. */
  numericAttributes?: Record<string, { min: number; max: number; usPerUnit?: number }>;
}

export interface ServiceSpec {
  hosts: number;
  /** Clock offset of each host in µs (index = host number); missing entries are 0. */
  clockSkewUs?: number[];
}

export interface Topology {
  entry: string; // "service/operation" of the root span
  services: Record<string, ServiceSpec>;
  operations: Record<string, OperationSpec>;
}

/** A shop: frontend → auth, catalog, checkout → inventory (fan-out), payments → bank, email (async). */
export function defaultTopology(): Topology {
  return {
    entry: 'frontend/GET /checkout',
    services: {
      frontend: { hosts: 2 },
      auth: { hosts: 1, clockSkewUs: [-3_000] },
      catalog: { hosts: 2 },
      checkout: { hosts: 2, clockSkewUs: [0, 4_000] },
      inventory: { hosts: 2 },
      payments: { hosts: 1, clockSkewUs: [15_000] },
      bank: { hosts: 1, clockSkewUs: [-7_000] },
      email: { hosts: 1, clockSkewUs: [25_000] },
      cache: { hosts: 1 },
    },
    operations: {
      'frontend/GET /checkout': {
        selfUs: 1_500,
        calls: [
          { to: 'cache/GET session', mode: 'sequential' },
          { to: 'auth/verify', mode: 'sequential' },
          { to: 'catalog/search', mode: 'parallel' },
          { to: 'catalog/item', mode: 'parallel', fanOut: 2 },
          { to: 'checkout/place', mode: 'sequential' },
        ],
      },
      'cache/GET session': { selfUs: 300 },
      'auth/verify': { selfUs: 2_000 },
      'catalog/search': {
        selfUs: 6_000,
        numericAttributes: { 'app.result_count': { min: 0, max: 200, usPerUnit: 60 }, 'app.page': { min: 1, max: 10 } },
      },
      'catalog/item': { selfUs: 5_000, numericAttributes: { 'app.item_bytes': { min: 100, max: 5_000 } } },
      'checkout/place': {
        selfUs: 3_000,
        calls: [
          { to: 'inventory/reserve', mode: 'parallel', fanOut: 3 },
          { to: 'payments/charge', mode: 'sequential' },
          { to: 'email/send receipt', mode: 'async' },
        ],
      },
      'inventory/reserve': { selfUs: 4_000 },
      'payments/charge': { selfUs: 3_000, calls: [{ to: 'bank/authorize', mode: 'sequential' }] },
      'bank/authorize': { selfUs: 8_000 },
      'email/send receipt': { selfUs: 40_000 },
    },
  };
}

export function splitOperation(ref: string): { service: string; operation: string } {
  const i = ref.indexOf('/');
  if (i <= 0 || i === ref.length - 1) throw new Error(`operation reference "${ref}" is not "service/operation"`);
  return { service: ref.slice(0, i), operation: ref.slice(i + 1) };
}

/**
 * Problems with a topology, each naming the field ("operations["a/b"].calls[1].mode: …"): shape
 * (it may come from a user's file), references to unknown services/operations, and call cycles.
 */
export function validateTopology(t: Topology): string[] {
  const problems: string[] = [];
  if (typeof t !== 'object' || t === null) return ['topology must be an object with entry, services and operations'];
  if (typeof t.services !== 'object' || t.services === null)
    problems.push('services: must be a mapping of service name → { hosts }');
  if (typeof t.operations !== 'object' || t.operations === null)
    problems.push('operations: must be a mapping of "service/operation" → { selfUs, calls }');
  if (typeof t.entry !== 'string') problems.push('entry: must be "service/operation"');
  if (problems.length) return problems;
  for (const [name, svc] of Object.entries(t.services)) {
    if (!Number.isInteger(svc?.hosts) || svc.hosts < 1)
      problems.push(`services["${name}"].hosts: must be an integer ≥ 1`);
    if (svc?.clockSkewUs !== undefined && (!Array.isArray(svc.clockSkewUs) || !svc.clockSkewUs.every(Number.isFinite)))
      problems.push(`services["${name}"].clockSkewUs: must be a list of numbers (µs per host)`);
  }
  const check = (ref: string, where: string) => {
    if (typeof ref !== 'string' || !t.operations[ref]) problems.push(`${where}: operation "${ref}" is not defined`);
    else if (!t.services[splitOperation(ref).service]) problems.push(`${where}: service of "${ref}" is not defined`);
  };
  check(t.entry, 'entry');
  for (const [ref, op] of Object.entries(t.operations)) {
    const at = `operations["${ref}"]`;
    if (!/^[^/]+\/.+$/.test(ref)) problems.push(`${at}: name must be "service/operation"`);
    if (typeof op?.selfUs !== 'number' || !(op.selfUs >= 0)) problems.push(`${at}.selfUs: must be a number ≥ 0`);
    if (op?.calls !== undefined && !Array.isArray(op.calls)) {
      problems.push(`${at}.calls: must be a list`);
      continue;
    }
    for (const [i, c] of (op?.calls ?? []).entries()) {
      check(c?.to, `${at}.calls[${i}]`);
      if (!['sequential', 'parallel', 'async'].includes(c?.mode))
        problems.push(`${at}.calls[${i}].mode: must be sequential, parallel or async`);
      if (c?.fanOut !== undefined && (!Number.isInteger(c.fanOut) || c.fanOut < 1 || c.fanOut > 100))
        problems.push(`${at}.calls[${i}].fanOut: must be an integer in [1, 100]`);
      if (
        c?.probability !== undefined &&
        !(typeof c.probability === 'number' && c.probability >= 0 && c.probability <= 1)
      )
        problems.push(`${at}.calls[${i}].probability: must be a number in [0, 1]`);
    }
  }
  const visiting = new Set<string>();
  const visit = (ref: string, path: string[]) => {
    if (visiting.has(ref)) {
      problems.push(`call cycle: ${[...path, ref].join(' → ')}`);
      return;
    }
    visiting.add(ref);
    for (const c of t.operations[ref]?.calls ?? []) visit(c.to, [...path, ref]);
    visiting.delete(ref);
  };
  if (problems.length === 0) visit(t.entry, []);
  return problems;
}
