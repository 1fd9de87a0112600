// Kubernetes labels/annotations that switch meshtrace on per namespace or per workload.
// Namespaces: `istio-injection=enabled` gets sidecars injected; `meshtrace.dev/enabled` is
// what the generated WasmPlugins' owners look for when auditing coverage. Workloads: a
// strategic-merge patch for the pod template (`kubectl patch deploy X --patch-file`).
import type { MeshtraceConfig } from '../types.ts';

export const ENABLED_LABEL = 'meshtrace.dev/enabled';
/** Where a file:// .wasm is mounted in the sidecar when it ships in a ConfigMap. */
export const WASM_MOUNT_DIR = '/var/local/lib/wasm';

export function namespaceManifests(cfg: MeshtraceConfig): Record<string, unknown>[] {
  const namespaces = [...new Set(cfg.services.map((s) => s.namespace))].sort();
  return namespaces.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'istio-injection': 'enabled', [ENABLED_LABEL]: 'true' } },
  }));
}

export function workloadPatches(cfg: MeshtraceConfig): { service: string; namespace: string; patch: unknown }[] {
  const fileWasm = cfg.wasm.url.startsWith('file://');
  return cfg.services
    .filter((s) => s.protocol === 'http')
    .map((s) => {
      const annotations: Record<string, string> = {};
      if (fileWasm) {
        // Only for file:// urls: the module must exist inside the sidecar's filesystem.
        annotations['sidecar.istio.io/userVolume'] = JSON.stringify([
          { name: 'meshtrace-wasm', configMap: { name: 'meshtrace-wasm' } },
        ]);
        annotations['sidecar.istio.io/userVolumeMount'] = JSON.stringify([
          { name: 'meshtrace-wasm', mountPath: WASM_MOUNT_DIR, readOnly: true },
        ]);
      }
      return {
        service: s.name,
        namespace: s.namespace,
        patch: {
          spec: {
            template: {
              metadata: {
                labels: { ...s.labels, 'sidecar.istio.io/inject': 'true', [ENABLED_LABEL]: 'true' },
                ...(fileWasm && { annotations }),
              },
            },
          },
        },
      };
    });
}
