// The import and export signatures of Proxy-Wasm ABI 0.2.1 that this host supports, per
// proxy-wasm/spec abi-versions/v0.2.1 and proxy-wasm-cpp-host's exports (size_t and bool are i32
// on wasm32; metric values are i64).
import { type FuncSig, sig } from './wasm-signatures.ts';

export const HOST_IMPORTS: Record<string, Record<string, FuncSig>> = {
  env: {
    proxy_log: sig('iii', 'i'),
    proxy_get_log_level: sig('i', 'i'),
    proxy_get_current_time_nanoseconds: sig('i', 'i'),
    proxy_set_tick_period_milliseconds: sig('i', 'i'),
    proxy_get_buffer_bytes: sig('iiiii', 'i'),
    proxy_set_buffer_bytes: sig('iiiii', 'i'),
    proxy_get_buffer_status: sig('iii', 'i'),
    proxy_get_header_map_pairs: sig('iii', 'i'),
    proxy_set_header_map_pairs: sig('iii', 'i'),
    proxy_get_header_map_value: sig('iiiii', 'i'),
    proxy_add_header_map_value: sig('iiiii', 'i'),
    proxy_replace_header_map_value: sig('iiiii', 'i'),
    proxy_remove_header_map_value: sig('iii', 'i'),
    proxy_get_header_map_size: sig('ii', 'i'),
    proxy_get_property: sig('iiii', 'i'),
    proxy_set_property: sig('iiii', 'i'),
    proxy_continue_stream: sig('i', 'i'),
    proxy_close_stream: sig('i', 'i'),
    proxy_continue_request: sig('', 'i'),
    proxy_continue_response: sig('', 'i'),
    proxy_clear_route_cache: sig('', 'i'),
    proxy_send_local_response: sig('iiiiiiii', 'i'),
    proxy_http_call: sig('iiiiiiiiii', 'i'),
    proxy_get_status: sig('iii', 'i'),
    proxy_get_shared_data: sig('iiiii', 'i'),
    proxy_set_shared_data: sig('iiiii', 'i'),
    proxy_register_shared_queue: sig('iii', 'i'),
    proxy_resolve_shared_queue: sig('iiiii', 'i'),
    proxy_enqueue_shared_queue: sig('iii', 'i'),
    proxy_dequeue_shared_queue: sig('iii', 'i'),
    proxy_define_metric: sig('iiii', 'i'),
    proxy_increment_metric: sig('iI', 'i'),
    proxy_record_metric: sig('iI', 'i'),
    proxy_get_metric: sig('ii', 'i'),
    proxy_set_effective_context: sig('i', 'i'),
    proxy_done: sig('', 'i'),
  },
  wasi_snapshot_preview1: {
    random_get: sig('ii', 'i'),
    clock_time_get: sig('iIi', 'i'),
    fd_write: sig('iiii', 'i'),
    proc_exit: sig('i'),
    environ_sizes_get: sig('ii', 'i'),
    environ_get: sig('ii', 'i'),
    args_sizes_get: sig('ii', 'i'),
    args_get: sig('ii', 'i'),
  },
};

/** Guest exports the host calls; a present export with another signature fails the load, as in Envoy. */
export const GUEST_EXPORTS: Record<string, FuncSig> = {
  _initialize: sig(''),
  _start: sig(''),
  proxy_on_memory_allocate: sig('i', 'i'),
  malloc: sig('i', 'i'),
  proxy_on_context_create: sig('ii'),
  proxy_on_vm_start: sig('ii', 'i'),
  proxy_on_configure: sig('ii', 'i'),
  proxy_on_tick: sig('i'),
  proxy_on_request_headers: sig('iii', 'i'),
  proxy_on_request_body: sig('iii', 'i'),
  proxy_on_request_trailers: sig('ii', 'i'),
  proxy_on_response_headers: sig('iii', 'i'),
  proxy_on_response_body: sig('iii', 'i'),
  proxy_on_response_trailers: sig('ii', 'i'),
  proxy_on_done: sig('i', 'i'),
  proxy_on_log: sig('i'),
  proxy_on_delete: sig('i'),
  proxy_on_http_call_response: sig('iiiii'),
  proxy_on_queue_ready: sig('ii'),
};

export const ABI_MARKER = 'proxy_abi_version_0_2_1';
/** Markers Envoy also accepts; this host only speaks 0.2.1 and says so. */
export const OTHER_ABI_MARKERS = ['proxy_abi_version_0_1_0', 'proxy_abi_version_0_2_0'];
