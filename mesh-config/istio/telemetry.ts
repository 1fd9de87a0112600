// Telemetry (telemetry.istio.io/v1) in the root namespace, so Istio's own Envoy tracing and the
// meshtrace filter never both make a sampling decision for the same request.
//   off   — Istio samples 0 % and reports nothing; the filter is the only tracer.
//   align — Istio's spans go to the same provider at the same percentage. Envoy follows the
//           sampled flag the filter already wrote into traceparent (it only uses
//           randomSamplingPercentage for requests without a decision), so both agree.
import type { MeshtraceConfig } from '../types.ts';
import { type K8sResource, managedLabels } from './resource.ts';

export function telemetry(cfg: MeshtraceConfig): K8sResource {
  // core/sampling's default probability is 1 (keep everything) when the section omits it.
  const percent = (cfg.sampling.probability ?? 1) * 100;
  const tracing =
    cfg.istio.own_sampling === 'off'
      ? { randomSamplingPercentage: 0, disableSpanReporting: true }
      : {
          providers: [{ name: cfg.istio.provider_name }],
          randomSamplingPercentage: Math.round(percent * 1000) / 1000,
          // The filter already wrote the context; Envoy's tracer must continue it, not fork it.
          useRequestIdForTraceSampling: false,
        };
  return {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: { name: 'meshtrace-sampling', namespace: cfg.istio.root_namespace, labels: managedLabels() },
    spec: { tracing: [tracing] },
  };
}
