// Base contexts. Ownership, and the Envoy configuration that creates each level:
//
//   VM  ─ one Wasm instance per worker thread, per `vm_config` (vm_id + code). Filters on
//   │     several listeners that name the same vm_id and code share it. `_initialize` runs once.
//   │
//   └─ RootContext ─ one per plugin: `envoy.filters.http.wasm` → `config{root_id, configuration}`.
//      │             proxy_on_context_create(rootId, 0), then on_vm_start and on_configure
//      │             (the JSON `configuration`). Returning false from onConfigure rejects the
//      │             filter config. Lives until the plugin is removed (on_done → on_delete).
//      │
//      └─ HttpContext ─ one per HTTP stream through that filter: proxy_on_context_create(id, rootId).
//                       Request/response hooks, then on_done → on_log → on_delete, after which
//                       the dispatcher drops it (nothing per-stream outlives the stream).
//
// Every hook has a no-op default that lets the stream continue, so a filter overrides only
// what it needs.
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from './enums';

export class HttpContext {
  constructor(
    readonly id: u32,
    readonly root: RootContext,
  ) {}

  /** Request headers are complete; `endOfStream` means there is no body. */
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }
  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }
  /** The stream finished (completed or reset); the access-log phase follows. */
  onLog(): void {}
  /**
   * The stream's context is being destroyed. Unlike onLog this fires for every stream — also
   * for filters in a cluster's upstream (per-attempt) filter chain, where Envoy 1.40 runs no
   * access-log phase and so never calls on_log.
   */
  onDone(): void {}
  /** Last call before the context is forgotten. */
  onDelete(): void {}
}

export class RootContext {
  constructor(readonly id: u32) {}

  /** Once per VM; `configSize` bytes of `vm_config.configuration` are readable. */
  onVmStart(configSize: u32): bool {
    return true;
  }
  /** The plugin configuration (BufferType.PluginConfiguration); false rejects it. */
  onConfigure(configSize: u32): bool {
    return true;
  }
  onTick(): void {}
  /** The answer to an http_call this plugin made (maps/body readable only during this call). */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {}
  /** A new HTTP stream; return null to let it pass through without a context. */
  newHttpContext(id: u32): HttpContext | null {
    return null;
  }
  /** The host is shutting the plugin down; true = nothing pending. */
  onDone(): bool {
    return true;
  }
  onDelete(): void {}
}
