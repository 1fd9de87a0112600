// `meshtrace down`: stops the local mesh recorded in .meshtrace/state.json. Asks the `up`
// supervisor first (it stops its children in order); then stops any recorded child that is
// still there (e.g. after `up` was killed with SIGKILL). Leaves no process behind.
import { alive, clearState, readState, stateDir, stopGroup } from './state.ts';

export async function down(log: (l: string) => void = (l) => console.log(l)): Promise<number> {
  const dir = stateDir();
  const state = readState(dir);
  if (!state) {
    log('meshtrace down: no local mesh is running');
    return 0;
  }
  if (alive(state.supervisor) && state.supervisor !== process.pid) {
    log(`meshtrace down: stopping meshtrace up (pid ${state.supervisor})`);
    try {
      process.kill(state.supervisor, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + 15000;
    while (alive(state.supervisor) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  const left = state.children.filter((c) => alive(c.pid));
  for (const c of left) {
    log(`meshtrace down: stopping ${c.name} (pid ${c.pid})`);
    await stopGroup(c.pid);
  }
  if (alive(state.supervisor)) await stopGroup(state.supervisor);
  const still = [...state.children.map((c) => c.pid), state.supervisor].filter((pid) => alive(pid));
  clearState(dir);
  if (still.length > 0) {
    log(`meshtrace down: could not stop pid(s) ${still.join(', ')}`);
    return 1;
  }
  log(`meshtrace down: stopped ${state.children.length} processes`);
  return 0;
}
