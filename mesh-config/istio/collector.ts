// ServiceEntry + DestinationRule (networking.istio.io/v1) for the OTLP collector, so exports
// from the filter reach it through the mesh with bounded connections and a short timeout —
// a slow collector must cost spans, never requests.
import type { MeshtraceConfig } from '../types.ts';
import { type K8sResource, managedLabels, urlHostPort } from './resource.ts';

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

export function collectorResources(cfg: MeshtraceConfig): K8sResource[] {
  if (!cfg.collector) return [];
  const { host, port, tls } = urlHostPort(cfg.collector.endpoint);
  const isIp = IPV4.test(host);
  const name = 'meshtrace-collector';
  const grpc = cfg.collector.protocol === 'otlp_grpc';
  const inCluster = host.endsWith('.svc') || host.endsWith('.svc.cluster.local');
  const serviceEntry: K8sResource = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: cfg.istio.root_namespace, labels: managedLabels() },
    spec: {
      // An IP endpoint still needs a host name in the registry; the address carries the IP.
      hosts: [isIp ? 'collector.meshtrace.local' : host],
      ...(isIp && { addresses: [`${host}/32`] }),
      location: inCluster ? 'MESH_INTERNAL' : 'MESH_EXTERNAL',
      ports: [
        {
          number: port,
          name: `${tls ? 'tls' : grpc ? 'grpc' : 'http'}-otlp`,
          protocol: tls ? 'TLS' : grpc ? 'GRPC' : 'HTTP',
        },
      ],
      resolution: isIp ? 'STATIC' : 'DNS',
      ...(isIp && { endpoints: [{ address: host }] }),
      exportTo: ['*'],
    },
  };
  const destinationRule: K8sResource = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, namespace: cfg.istio.root_namespace, labels: managedLabels() },
    spec: {
      host: isIp ? 'collector.meshtrace.local' : host,
      trafficPolicy: {
        connectionPool: {
          tcp: { maxConnections: 16, connectTimeout: `${Math.min(cfg.collector.timeout_ms, 1000)}ms` },
          http: { http1MaxPendingRequests: cfg.collector.max_queue, maxRequestsPerConnection: 0 },
        },
        // Eject a failing collector replica quickly instead of queueing behind it.
        outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' },
        tls: { mode: tls ? 'SIMPLE' : 'DISABLE' },
      },
      exportTo: ['*'],
    },
  };
  return [serviceEntry, destinationRule];
}
