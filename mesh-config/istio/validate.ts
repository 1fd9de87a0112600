// Validates generated Istio resources against the CRD schemas published in
// @kubernetes-models/istio (generated from istio/api's OpenAPI). Those schemas check types,
// enums and required fields; they allow unknown fields (as the CRDs' preserve-unknown parts
// do), so golden tests guard the field names. meshConfig has no CRD: the extensionProviders
// snippet is checked against a schema written here from Istio's MeshConfig reference.
import { Ajv } from 'ajv';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { IstioOperator } from '@kubernetes-models/istio/install.istio.io/v1alpha1/IstioOperator';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import { ServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry';
import type { K8sResource } from './resource.ts';

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: never) => Validatable;

const MODELS: Record<string, ModelCtor> = {
  'extensions.istio.io/v1alpha1/WasmPlugin': WasmPlugin as unknown as ModelCtor,
  'networking.istio.io/v1alpha3/EnvoyFilter': EnvoyFilter as unknown as ModelCtor,
  'networking.istio.io/v1/ServiceEntry': ServiceEntry as unknown as ModelCtor,
  'networking.istio.io/v1/DestinationRule': DestinationRule as unknown as ModelCtor,
  'telemetry.istio.io/v1/Telemetry': Telemetry as unknown as ModelCtor,
  'install.istio.io/v1alpha1/IstioOperator': IstioOperator as unknown as ModelCtor,
};

const duration = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' };
const providerSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    opentelemetry: {
      type: 'object',
      required: ['service', 'port'],
      additionalProperties: false,
      properties: {
        service: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        maxTagLength: { type: 'integer', minimum: 0 },
        http: {
          type: 'object',
          additionalProperties: false,
          properties: { path: { type: 'string' }, timeout: duration, headers: { type: 'object' } },
        },
      },
    },
    envoyExtAuthzGrpc: {
      type: 'object',
      required: ['service', 'port'],
      additionalProperties: false,
      properties: {
        service: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        timeout: duration,
        failOpen: { type: 'boolean' },
      },
    },
  },
  oneOf: [{ required: ['opentelemetry'] }, { required: ['envoyExtAuthzGrpc'] }],
};
const checkProviders = new Ajv({ allErrors: true }).compile({ type: 'array', items: providerSchema });

/** Throws with `<Kind>/<name>: <problems>` when a resource breaks its Istio schema. */
export function validateIstioResource(res: K8sResource): void {
  const key = `${res.apiVersion}/${res.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`${res.kind}/${res.metadata.name}: no published schema for ${key}`);
  try {
    new Model(res as never).validate();
  } catch (err) {
    throw new Error(`${res.kind}/${res.metadata.name}: ${(err as Error).message}`);
  }
  if (res.kind === 'IstioOperator') {
    const providers = (res.spec?.meshConfig as { extensionProviders?: unknown } | undefined)?.extensionProviders;
    if (!checkProviders(providers ?? [])) {
      const msg = (checkProviders.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join(', ');
      throw new Error(`IstioOperator/${res.metadata.name}: meshConfig.extensionProviders${msg}`);
    }
  }
}

export function validateIstioResources(resources: K8sResource[]): void {
  for (const r of resources) validateIstioResource(r);
}
