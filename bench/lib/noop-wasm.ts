// A Proxy-Wasm 0.2.1 filter that does nothing (every callback continues), assembled from bytes.
// As a bench row it measures what any Wasm filter costs in Envoy (VM call-ins, context
// create/delete), so the meshtrace row's extra cost can be told apart from that floor.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { op, proxyGuest } from '../../test/support/proxy-wasm-host/module-builder.ts';
import { GUEST_EXPORTS, HOST_IMPORTS } from '../../test/support/proxy-wasm-host/signatures.ts';

export function writeNoopWasm(): string {
  const wasm = proxyGuest(
    [],
    () => ({
      proxy_on_request_headers: [op.i32(0)],
      proxy_on_response_headers: [op.i32(0)],
      proxy_on_done: [op.i32(1)],
      proxy_on_log: [],
      proxy_on_delete: [],
    }),
    { imports: HOST_IMPORTS, exports: GUEST_EXPORTS },
  );
  const file = join(mkdtempSync(join(tmpdir(), 'meshtrace-bench-')), 'noop.wasm');
  writeFileSync(file, wasm);
  return file;
}
