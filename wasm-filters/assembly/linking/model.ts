// The workload's learned call pattern, in shared data under `meshtrace.link.model.<workload>`,
// learned only from certain observations (registry.ts says which), so a wrong link can never
// teach the model to make more of them.
//
//   header (32 B) │ op 0 (72 B) │ op 1 │ … │ op n-1           (at most 64 inbound operations)
//
//   header: u32 magic "MTM1" · u32 ops · 24 B –
//   op:     u32 inbound op · u32 clean samples · u8 most calls outstanding at once · u8 callees ·
//           2 B – · u32 callee op[12] · u8 most calls of that callee in one request[12] ·
//           u16 calls of that callee seen[12] · u16 of which carried a value of the request[12]
//
// Learned per inbound operation, which outbound operations a request of it calls, how many times at
//     most, and whether it ever has two calls out at once (parallel) — the hard constraints that
//     rule a candidate out (linker.ts) — and how often a call passes on an id of the request's
//     path (the evidence that lets a shared value pick the parent);
import { getSharedData, setSharedData } from '../abi/hostcalls';
import { E_COUNTS, E_MAX_OUTSTANDING, E_NOPS, E_OP, E_OPS, E_VALUE_HITS } from './registry';

const HEADER = 32;
const OP = 120;
const MAGIC: u32 = 0x314d544d;
const MAX_OPS = 64;
export const MAX_CALLEES = 12;
const CAS_ATTEMPTS = 16;

const O_OP = 0;
const O_SAMPLES = 4;
const O_MAX_OUTSTANDING = 8;
const O_NCALLEES = 9;
const O_CALLEES = 12;
const O_MAX_COUNTS = 60;
const O_VALUE_N = 72;
const O_VALUE_HITS = 96;
const U16_MAX: u32 = 65535;

export function modelKey(workload: string): string {
  return 'meshtrace.link.model.' + workload;
}

/** A read-only view of the model (the host's copy). */
export class Model {
  constructor(readonly bytes: ArrayBuffer) {}

  static read(key: string): Model {
    const v = getSharedData(key);
    return new Model(v === null || !valid(v.bytes) ? emptyModel() : v.bytes);
  }

  /** The record of inbound operation `op`, or 0 when it was never observed cleanly. */
  op(op: u32): usize {
    const base = changetype<usize>(this.bytes);
    const n = <i32>load<u32>(base + 4);
    for (let i = 0; i < n; i++) {
      const p = base + HEADER + <usize>i * OP;
      if (load<u32>(p + O_OP) == op) return p;
    }
    return 0;
  }
}

export function opSamples(rec: usize): u32 {
  return load<u32>(rec + O_SAMPLES);
}

export function opParallel(rec: usize): bool {
  return load<u8>(rec + O_MAX_OUTSTANDING) > 1;
}

/** Most calls of `callee` one request of this operation made; -1 = never called it. */
export function opMaxCalls(rec: usize, callee: u32): i32 {
  const n = <i32>load<u8>(rec + O_NCALLEES);
  for (let k = 0; k < n; k++) if (load<u32>(rec + O_CALLEES + k * 4) == callee) return load<u8>(rec + O_MAX_COUNTS + k);
  return -1;
}

/** Laplace-smoothed share of `callee` calls that carried a value of the request; -1 when seen fewer than `minSamples` times. */
export function opValueRate(rec: usize, callee: u32, minSamples: u32): f64 {
  const n = <i32>load<u8>(rec + O_NCALLEES);
  for (let k = 0; k < n; k++) {
    if (load<u32>(rec + O_CALLEES + k * 4) != callee) continue;
    const seen = <u32>load<u16>(rec + O_VALUE_N + k * 2);
    if (seen < minSamples) return -1;
    return (<f64>load<u16>(rec + O_VALUE_HITS + k * 2) + 1) / (<f64>seen + 2);
  }
  return -1;
}

function valid(b: ArrayBuffer): bool {
  if (b.byteLength < HEADER) return false;
  const base = changetype<usize>(b);
  return load<u32>(base) == MAGIC && HEADER + <i32>load<u32>(base + 4) * OP <= b.byteLength;
}

function emptyModel(): ArrayBuffer {
  const b = new ArrayBuffer(HEADER);
  store<u32>(changetype<usize>(b), MAGIC);
  return b;
}

/** Learns one clean request (a registry entry copy): its operation's callees, counts, parallelism. */
export function learnRequest(key: string, entry: ArrayBuffer): bool {
  const e = changetype<usize>(entry);
  const op = load<u32>(e + E_OP);
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const v = getSharedData(key);
    const cas = v === null ? 0 : v.cas;
    const old = v === null || !valid(v.bytes) ? emptyModel() : v.bytes;
    const oldBase = changetype<usize>(old);
    const n = <i32>load<u32>(oldBase + 4);
    const m = new Model(old);
    let rec = m.op(op);
    let b = old;
    let len = HEADER + n * OP;
    if (rec == 0) {
      if (n >= MAX_OPS) return true; // a bounded model: the 65th operation is simply not learned
      b = new ArrayBuffer(HEADER + (n + 1) * OP);
      memory.copy(changetype<usize>(b), oldBase, HEADER + n * OP);
      store<u32>(changetype<usize>(b) + 4, n + 1);
      rec = changetype<usize>(b) + HEADER + <usize>n * OP;
      memory.fill(rec, 0, OP);
      store<u32>(rec + O_OP, op);
      len += OP;
    }
    store<u32>(rec + O_SAMPLES, load<u32>(rec + O_SAMPLES) + 1);
    const most = load<u8>(e + E_MAX_OUTSTANDING);
    if (most > load<u8>(rec + O_MAX_OUTSTANDING)) store<u8>(rec + O_MAX_OUTSTANDING, most);
    const calls = <i32>load<u8>(e + E_NOPS);
    for (let k = 0; k < calls; k++) {
      const callee = load<u32>(e + E_OPS + k * 4);
      const count = load<u8>(e + E_COUNTS + k);
      const hits = load<u8>(e + E_VALUE_HITS + k);
      const nc = <i32>load<u8>(rec + O_NCALLEES);
      let j = 0;
      while (j < nc && load<u32>(rec + O_CALLEES + j * 4) != callee) j++;
      if (j == nc) {
        if (nc >= MAX_CALLEES) continue;
        store<u32>(rec + O_CALLEES + nc * 4, callee);
        store<u8>(rec + O_NCALLEES, <u8>(nc + 1));
      }
      if (count > load<u8>(rec + O_MAX_COUNTS + j)) store<u8>(rec + O_MAX_COUNTS + j, count);
      // Saturating counts: past 65535 observations the share is as good as it gets.
      const seen = <u32>load<u16>(rec + O_VALUE_N + j * 2);
      if (seen + <u32>count <= U16_MAX) {
        store<u16>(rec + O_VALUE_N + j * 2, <u16>(seen + count));
        store<u16>(rec + O_VALUE_HITS + j * 2, <u16>(<u32>load<u16>(rec + O_VALUE_HITS + j * 2) + hits));
      }
    }
    if (setSharedData(key, changetype<usize>(b), len, cas)) return true;
  }
  return false;
}
