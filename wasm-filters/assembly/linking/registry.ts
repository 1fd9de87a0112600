// The workload's inbound requests in flight, in Proxy-Wasm shared data under
// `meshtrace.link.inflight.<workload>`: one value that every worker thread's VM reads and
// replaces with compare-and-swap, so an app's outbound call on thread 2 sees the inbound
// request that thread 1 is serving.
//
//   header (32 B) │ entry 0 (192 B) │ entry 1 │ … │ entry count-1
//
//   header: u32 magic "MTL1" · u32 count · u32 next slot · u32 – · u64 uncertain calls · u64 –
//   entry:  u32 slot · u32 inbound op · u64 start ns · 8 B – · u64 uncertain calls
//           at start · 16 B trace id · 8 B span id (the inbound server span: the parent of a
//           linked call) · u8 flags · u8 calls outstanding · u8 most outstanding at once ·
//           u8 distinct ops called · u8 tracestate length · u8 path values · 2 B – · u32 ops[6] ·
//           u8 counts[6] · 2 B – · tracestate[96] · u32 path values[4] · u8 calls of each op that
//           carried one of those values[6] · 2 B –
//
// Fixed-size entries: finding, changing and removing one is pointer arithmetic on the copy the
// host hands back, with no decoding. `uncertain calls` counts context-less calls linked by the
// model or left provisional; an entry whose whole life saw no such call (and whose own calls
// were all certain) is a clean observation of its operation's call pattern (model.ts learns it).
import { getSharedData, setSharedData } from '../abi/hostcalls';
import { hexToBytes } from '../trace-context/chars';

export const HEADER = 32;
export const ENTRY = 216;
const MAGIC: u32 = 0x314c544d;

const H_COUNT = 4;
const H_NEXT_SLOT = 8;
const H_UNCERTAIN = 16;

export const E_SLOT = 0;
export const E_OP = 4;
export const E_START = 8;
const E_UNCERTAIN_AT_START = 24;
export const E_TRACE = 32;
export const E_SPAN = 48;
export const E_FLAGS = 56;
export const E_OUTSTANDING = 57;
export const E_MAX_OUTSTANDING = 58;
export const E_NOPS = 59;
export const E_TS_LEN = 60;
export const E_NVALUES = 61;
export const E_OPS = 64;
export const E_COUNTS = 88;
export const E_TS = 96;
export const E_VALUES = 192;
export const E_VALUE_HITS = 208;
export const MAX_OPS = 6;
export const TS_MAX = 96;

export const F_SAMPLED: u8 = 1;
export const F_DEBUG: u8 = 2;
export const F_RANDOM: u8 = 4;
/** A call of this entry was not certain, or it called more distinct ops than an entry holds. */
export const F_UNLEARNABLE: u8 = 8;

/** CAS attempts before giving up (counted): a lost update costs linking quality, never a request. */
const CAS_ATTEMPTS = 16;

export function registryKey(workload: string): string {
  return 'meshtrace.link.inflight.' + workload;
}

/** A snapshot of the registry (the host's copy: reading it races with nobody). */
export class Snapshot {
  constructor(
    readonly bytes: ArrayBuffer,
    readonly cas: u32,
  ) {}

  get count(): i32 {
    return this.bytes.byteLength < HEADER ? 0 : <i32>load<u32>(changetype<usize>(this.bytes) + H_COUNT);
  }

  entry(i: i32): usize {
    return changetype<usize>(this.bytes) + HEADER + <usize>i * ENTRY;
  }

  get uncertain(): u64 {
    return this.bytes.byteLength < HEADER ? 0 : load<u64>(changetype<usize>(this.bytes) + H_UNCERTAIN);
  }

  /** Index of the entry with `slot`, or -1. */
  find(slot: u32): i32 {
    const n = this.count;
    for (let i = 0; i < n; i++) if (load<u32>(this.entry(i) + E_SLOT) == slot) return i;
    return -1;
  }
}

/** The current registry; an empty one when none was written yet or the value is not ours. */
export function readRegistry(key: string): Snapshot {
  const v = getSharedData(key);
  if (v === null || !valid(v.bytes)) return new Snapshot(emptyRegistry(), v === null ? 0 : v.cas);
  return new Snapshot(v.bytes, v.cas);
}

function valid(b: ArrayBuffer): bool {
  if (b.byteLength < HEADER) return false;
  const base = changetype<usize>(b);
  if (load<u32>(base) != MAGIC) return false;
  return HEADER + <i32>load<u32>(base + H_COUNT) * ENTRY <= b.byteLength;
}

function emptyRegistry(): ArrayBuffer {
  const b = new ArrayBuffer(HEADER);
  store<u32>(changetype<usize>(b), MAGIC);
  store<u32>(changetype<usize>(b) + H_NEXT_SLOT, 1);
  return b;
}

/** Writes `len` bytes of `b` back under the snapshot's CAS token; false = someone was first. */
function commit(key: string, b: ArrayBuffer, len: i32, cas: u32): bool {
  return setSharedData(key, changetype<usize>(b), len, cas);
}

/** What a new inbound request puts in the registry. */
export class NewEntry {
  op: u32 = 0;
  startNs: u64 = 0;
  traceId: string = '';
  spanId: string = '';
  flags: u8 = 0;
  tracestate: string = '';
  /** Hashes of the ids in the request's path (operation.ts pathValues), at most 4. */
  values: u32[] = [];
}

/** Outcome counters of registry updates, for the filter's metrics. */
export class RegistryOutcome {
  slot: u32 = 0;
  full: bool = false;
  expired: i32 = 0;
  casExhausted: bool = false;
}

/**
 * Adds an entry; returns its slot (0 when the registry is full or the update kept failing).
 * Entries older than `maxAgeNs` (their end was never seen) are dropped on the way.
 */
export function register(key: string, e: NewEntry, maxInflight: i32, maxAgeNs: u64): RegistryOutcome {
  const out = new RegistryOutcome();
  const trace = hexToBytes(e.traceId);
  const span = hexToBytes(e.spanId);
  const ts = e.tracestate.length <= TS_MAX ? String.UTF8.encode(e.tracestate) : new ArrayBuffer(0);
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const snap = readRegistry(key);
    let n = snap.count;
    const old = snap.bytes;
    const b = new ArrayBuffer(HEADER + (n + 1) * ENTRY);
    const base = changetype<usize>(b);
    memory.copy(base, changetype<usize>(old), HEADER);
    // Copy the live entries, leaving out the expired ones.
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const src = snap.entry(i);
      if (e.startNs > load<u64>(src + E_START) + maxAgeNs) continue;
      memory.copy(base + HEADER + <usize>kept * ENTRY, src, ENTRY);
      kept++;
    }
    out.expired = n - kept;
    n = kept;
    if (n >= maxInflight) {
      out.full = true;
      store<u32>(base + H_COUNT, n);
      if (out.expired > 0) commit(key, b, HEADER + n * ENTRY, snap.cas);
      return out;
    }
    let slot = load<u32>(base + H_NEXT_SLOT);
    if (slot == 0) slot = 1; // 0 means "not registered"
    store<u32>(base + H_NEXT_SLOT, slot + 1);
    store<u32>(base + H_COUNT, n + 1);
    const p = base + HEADER + <usize>n * ENTRY;
    memory.fill(p, 0, ENTRY);
    store<u32>(p + E_SLOT, slot);
    store<u32>(p + E_OP, e.op);
    store<u64>(p + E_START, e.startNs);
    store<u64>(p + E_UNCERTAIN_AT_START, load<u64>(base + H_UNCERTAIN));
    memory.copy(p + E_TRACE, changetype<usize>(trace), 16);
    memory.copy(p + E_SPAN, changetype<usize>(span), 8);
    store<u8>(p + E_FLAGS, e.flags);
    store<u8>(p + E_TS_LEN, <u8>ts.byteLength);
    memory.copy(p + E_TS, changetype<usize>(ts), ts.byteLength);
    const nv = min(e.values.length, 4);
    store<u8>(p + E_NVALUES, <u8>nv);
    for (let k = 0; k < nv; k++) store<u32>(p + E_VALUES + k * 4, e.values[k]);
    if (commit(key, b, HEADER + (n + 1) * ENTRY, snap.cas)) {
      out.slot = slot;
      return out;
    }
  }
  out.casExhausted = true;
  return out;
}

/**
 * Removes entry `slot` (its response started: the app is done with it). Returns a copy of the
 * entry when it is a clean observation of its operation's call pattern (model.ts), else null.
 */
export function remove(key: string, slot: u32, out: RegistryOutcome): ArrayBuffer | null {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const snap = readRegistry(key);
    const i = snap.find(slot);
    if (i < 0) return null;
    const p = snap.entry(i);
    let learned: ArrayBuffer | null = null;
    const clean =
      (load<u8>(p + E_FLAGS) & F_UNLEARNABLE) == 0 &&
      load<u64>(p + E_UNCERTAIN_AT_START) == snap.uncertain &&
      load<u8>(p + E_OUTSTANDING) == 0;
    if (clean) {
      const copy = new ArrayBuffer(ENTRY);
      memory.copy(changetype<usize>(copy), p, ENTRY);
      learned = copy;
    }
    const n = snap.count;
    // Swap the last entry into the hole; the value shrinks by one entry.
    if (i != n - 1) memory.copy(p, snap.entry(n - 1), ENTRY);
    store<u32>(changetype<usize>(snap.bytes) + H_COUNT, n - 1);
    if (commit(key, snap.bytes, HEADER + (n - 1) * ENTRY, snap.cas)) return learned;
  }
  out.casExhausted = true;
  return null;
}

/**
 * Records a call the app made: linked to entry `slot` (certain or by the model), or left
 * provisional (slot 0). Any call that was not certain raises the workload's uncertain count; only
 * a `tracked` (sure) link counts in the entry's state — calls made, calls outstanding.
 */
export function noteCall(
  key: string,
  slot: u32,
  op: u32,
  valueHit: bool,
  nowNs: u64,
  certain: bool,
  tracked: bool,
  out: RegistryOutcome,
): void {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const snap = readRegistry(key);
    const base = changetype<usize>(snap.bytes);
    if (!certain) store<u64>(base + H_UNCERTAIN, load<u64>(base + H_UNCERTAIN) + 1);
    const i = slot == 0 ? -1 : snap.find(slot);
    if (i >= 0) {
      const p = snap.entry(i);
      let flags = load<u8>(p + E_FLAGS);
      if (!certain) flags |= F_UNLEARNABLE;
      if (tracked) {
        const outstanding = load<u8>(p + E_OUTSTANDING);
        if (outstanding < 255) store<u8>(p + E_OUTSTANDING, outstanding + 1);
        if (outstanding + 1 > load<u8>(p + E_MAX_OUTSTANDING)) store<u8>(p + E_MAX_OUTSTANDING, outstanding + 1);
        if (!countOp(p, op, valueHit)) flags |= F_UNLEARNABLE;
      }
      store<u8>(p + E_FLAGS, flags);
    } else if (certain) return; // nothing to change
    if (commit(key, snap.bytes, snap.bytes.byteLength, snap.cas)) return;
  }
  out.casExhausted = true;
}

/** The answer to a linked call came back: the app is unblocked now. */
export function noteCallDone(key: string, slot: u32, out: RegistryOutcome): void {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const snap = readRegistry(key);
    const i = snap.find(slot);
    if (i < 0) return;
    const p = snap.entry(i);
    const outstanding = load<u8>(p + E_OUTSTANDING);
    if (outstanding > 0) store<u8>(p + E_OUTSTANDING, outstanding - 1);
    if (commit(key, snap.bytes, snap.bytes.byteLength, snap.cas)) return;
  }
  out.casExhausted = true;
}

/** Times entry `p` has called `op` so far. */
export function callsOf(p: usize, op: u32): i32 {
  const n = <i32>load<u8>(p + E_NOPS);
  for (let k = 0; k < n; k++) if (load<u32>(p + E_OPS + k * 4) == op) return load<u8>(p + E_COUNTS + k);
  return 0;
}

/** Counts one call of `op` (and whether it carried one of the entry's values); false when the entry has no room for another distinct op. */
function countOp(p: usize, op: u32, valueHit: bool): bool {
  const n = <i32>load<u8>(p + E_NOPS);
  for (let k = 0; k < n; k++) {
    if (load<u32>(p + E_OPS + k * 4) == op) {
      const c = load<u8>(p + E_COUNTS + k);
      if (c < 255) store<u8>(p + E_COUNTS + k, c + 1);
      const h = load<u8>(p + E_VALUE_HITS + k);
      if (valueHit && h < 255) store<u8>(p + E_VALUE_HITS + k, h + 1);
      return true;
    }
  }
  if (n >= MAX_OPS) return false;
  store<u32>(p + E_OPS + n * 4, op);
  store<u8>(p + E_COUNTS + n, 1);
  store<u8>(p + E_VALUE_HITS + n, valueHit ? 1 : 0);
  store<u8>(p + E_NOPS, <u8>(n + 1));
  return true;
}

/** Whether the entry's request path carries one of `values`. */
export function sharesValue(p: usize, values: u32[]): bool {
  const n = <i32>load<u8>(p + E_NVALUES);
  for (let k = 0; k < n; k++) {
    const v = load<u32>(p + E_VALUES + k * 4);
    for (let j = 0; j < values.length; j++) if (values[j] == v) return true;
  }
  return false;
}
