// Entry of the meshtrace trace filter (.wasm loaded by envoy.filters.http.wasm).
export * from './abi/dispatcher';
import './abi/abort';
import { setRootContextFactory } from './abi/registry';
import { HeaderMapType } from './abi/enums';
import { HttpContext, RootContext } from './abi/context';
import { replaceHeaderMapValue } from './abi/hostcalls';
import { FilterHeadersStatus } from './abi/enums';

class Probe extends HttpContext {
  onRequestHeaders(n: u32, eos: bool): FilterHeadersStatus {
    replaceHeaderMapValue(HeaderMapType.RequestHeaders, 'x-meshtrace', '1');
    return FilterHeadersStatus.Continue;
  }
}
class ProbeRoot extends RootContext {
  newHttpContext(id: u32): HttpContext | null {
    return new Probe(id, this);
  }
}
setRootContextFactory((id: u32): RootContext => new ProbeRoot(id));
