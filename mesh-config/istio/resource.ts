// The common shape of a generated Kubernetes resource and the labels that mark it as ours.

export interface K8sResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `app.kubernetes.io/managed-by` lets `kubectl delete -l` remove exactly what meshtrace made. */
export function managedLabels(): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'meshtrace' };
}

/** host and port of an http(s) URL (schema has checked the shape). */
export function urlHostPort(endpoint: string): { host: string; port: number; tls: boolean; path: string } {
  const u = new URL(endpoint);
  const tls = u.protocol === 'https:';
  return { host: u.hostname, port: u.port ? Number(u.port) : tls ? 443 : 80, tls, path: u.pathname };
}
