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

/** Clear errors for a topology that references unknown services/operations or loops. */
export function validateTopology(t: Topology): string[] {
  const problems: string[] = [];
  const check = (ref: string, where: string) => {
    if (!t.operations[ref]) problems.push(`${where}: operation "${ref}" is not defined`);
    else if (!t.services[splitOperation(ref).service]) problems.push(`${where}: service of "${ref}" is not defined`);
  };
  check(t.entry, 'entry');
  for (const [ref, op] of Object.entries(t.operations)) {
    for (const [i, c] of (op.calls ?? []).entries()) check(c.to, `operations["${ref}"].calls[${i}]`);
    if (!(op.selfUs >= 0)) problems.push(`operations["${ref}"].selfUs must be a number ≥ 0`);
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
