// `meshtrace down` — stops the local mesh started by `meshtrace up` (mesh-config/local/down.ts).
import { down } from '../../mesh-config/local/down.ts';

export const summary = 'stop the local mesh started by meshtrace up (leaves no process behind)';

export function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(`meshtrace down: takes no arguments (got ${args.join(' ')})`);
    return Promise.resolve(2);
  }
  return down();
}
