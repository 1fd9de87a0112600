// Which RootContext the dispatcher creates for a new plugin. Kept apart from dispatcher.ts so
// the entry module can `export *` the dispatcher without exporting this setter.
import { RootContext } from './context';

export type RootFactory = (id: u32) => RootContext;

let factory: RootFactory | null = null;

export function setRootContextFactory(f: RootFactory): void {
  factory = f;
}

export function rootFactory(): RootFactory | null {
  return factory;
}
