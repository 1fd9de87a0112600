// Envoy request attributes (ext_proc `request_attributes`; see Envoy's "Attributes" reference)
// → route/cluster/client span attributes. Envoy sends them keyed by the filter's name inside
// ProcessingRequest.attributes, on the first message of the stream.
import type { Struct } from '../envoy-types.ts';
import { fromStruct } from '../struct.ts';
import type { Attrs } from './types.ts';

export const EXT_PROC_ATTRIBUTE_KEY = 'envoy.filters.http.ext_proc';

/** The attribute names to list in the Envoy filter's `request_attributes`. */
export const REQUESTED_ATTRIBUTES = ['xds.route_name', 'xds.cluster_name', 'source.address', 'request.id'];

export function envoyAttributes(attributes: Record<string, Struct> | undefined): Attrs {
  const out: Attrs = {};
  const s = attributes?.[EXT_PROC_ATTRIBUTE_KEY];
  if (!s) return out;
  const a = fromStruct(s);
  const route = a['xds.route_name'];
  if (typeof route === 'string' && route) out['meshtrace.envoy.route'] = route;
  const cluster = a['xds.cluster_name'];
  if (typeof cluster === 'string' && cluster) out['meshtrace.envoy.cluster'] = cluster;
  const source = a['source.address'];
  if (typeof source === 'string' && source) Object.assign(out, clientAddress(source));
  const id = a['request.id'];
  if (typeof id === 'string' && id) out['meshtrace.envoy.request_id'] = id;
  return out;
}

/** "1.2.3.4:5678" or "[::1]:5678" → client.address / client.port. */
export function clientAddress(hostPort: string): Attrs {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(hostPort);
  if (!m) return { 'client.address': hostPort };
  return { 'client.address': m[1] as string, 'client.port': Number(m[2]) };
}
