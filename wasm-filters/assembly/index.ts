// Entry of the meshtrace trace filter (wasm-filters/build/meshtrace-filter.wasm), loaded by
// Envoy's envoy.filters.http.wasm. Exports come from the dispatcher; the root context type is
// registered here and runs when the host calls _initialize.
import './abi/abort';
import { RootContext } from './abi/context';
import { setRootContextFactory } from './abi/registry';
import { TraceRoot } from './filter/trace-filter';

export * from './abi/dispatcher';

setRootContextFactory((id: u32): RootContext => new TraceRoot(id));
