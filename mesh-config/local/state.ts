// State of a running local mesh, kept under a git-ignored `.meshtrace/` folder so `meshtrace
// down` (another process, maybe after `up` was killed) can find and stop everything:
//   .meshtrace/state.json   supervisor pid, every child's pid (= its process group), URLs
//   .meshtrace/logs/*.log   each child's output and each Envoy's access log
//   .meshtrace/config/      the generated meshtrace.yaml, bootstraps and ext_proc config
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../core/envoy-binary.ts';

export interface ChildRecord {
  name: string;
  pid: number;
}

export interface MeshState {
  supervisor: number;
  startedAt: string;
  children: ChildRecord[];
  urls: Record<string, string>;
}

/** MESHTRACE_STATE_DIR overrides the default `<repo>/.meshtrace` (tests use a temp dir). */
export function stateDir(): string {
  return resolve(process.env.MESHTRACE_STATE_DIR ?? join(repoRoot, '.meshtrace'));
}

export function statePath(dir = stateDir()): string {
  return join(dir, 'state.json');
}

export function readState(dir = stateDir()): MeshState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MeshState;
  } catch {
    return undefined;
  }
}

/** Written after every child starts, atomically (rename), so a crash leaves a usable file. */
export function writeState(state: MeshState, dir = stateDir()): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${statePath(dir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, statePath(dir));
}

export function clearState(dir = stateDir()): void {
  rmSync(statePath(dir), { force: true });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the child's whole process group, SIGKILL after `graceMs`; resolves when gone. */
export async function stopGroup(pid: number, graceMs = 4000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (!alive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    signal('SIGKILL');
    const hard = Date.now() + 2000;
    while (alive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
  }
}
