// envoy.service.auth.v3.Authorization/Check — one unary call per HTTP request, made by Envoy's
// ext_authz filter before the request goes upstream.
//
//   1. Envoy sends CheckRequest{attributes}: source address, the HTTP request (method, path,
//      host, headers as a string map), per-route context_extensions.
//   2. We extract the inbound trace context, enrich, and evaluate the deny rules (authz.deny).
//   3. We MUST answer one CheckResponse:
//        allow → status OK, ok_response.headers = outbound trace headers (Envoy adds them to
//                the upstream request), dynamic_metadata = {<namespace>: enrichment}; Envoy
//                files it under the filter's own namespace, envoy.filters.http.ext_authz.
//        deny  → status PERMISSION_DENIED and denied_response with the rule's HTTP status.
//      Only a configured rule denies; enrichment problems (bad JWT, no trace context) never do.
//   4. ext_authz never shows us the response, so in mode "span" our span covers the check and
//      carries the request's enrichment; it ends when we answer.
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { DenyRule } from './config.ts';
import { clientAddress } from './enrich/envoy-attributes.ts';
import type { Enrichment } from './enrich/index.ts';
import type { Attrs } from './enrich/types.ts';
import type { CheckRequest, CheckResponse } from './envoy-types.ts';
import type { ProcessorDeps } from './ext-proc.ts';
import { fromStringMap, overwrite } from './headers.ts';
import { toStruct } from './struct.ts';

export function denyingRule(rules: readonly DenyRule[], method: string, e: Enrichment): DenyRule | undefined {
  return rules.find(
    (r) =>
      e.path.startsWith(r.pathPrefix) &&
      (r.methods === undefined || r.methods.includes(method)) &&
      !(r.unlessVerifiedJwt && e.jwt !== undefined),
  );
}

export function checkHandler(d: ProcessorDeps): grpc.handleUnaryCall<CheckRequest, CheckResponse> {
  return (call, callback) => {
    const t0 = performance.now();
    d.metrics.inc('checks_total');
    check(d, call.request)
      .then((res) => callback(null, res))
      .catch((err: Error) => {
        d.metrics.inc('stream_errors_total');
        d.logger.log('warn', 'ext_authz check failed', { error: err.message });
        callback({ code: GrpcStatus.INTERNAL, details: err.message });
      })
      .finally(() => d.metrics.latency.check.observe(performance.now() - t0));
  };
}

async function check(d: ProcessorDeps, req: CheckRequest): Promise<CheckResponse> {
  const http = req.attributes?.request?.http;
  if (!http) throw new Error('CheckRequest.attributes.request.http is missing');
  const headers = fromStringMap(http.headers);
  const sock = req.attributes?.source?.address?.socket_address;
  const envoy: Attrs = {};
  if (sock?.address) Object.assign(envoy, clientAddress(`${sock.address}:${sock.port_value ?? 0}`));
  for (const [k, v] of Object.entries(req.attributes?.context_extensions ?? {}).slice(0, 16))
    envoy[`meshtrace.envoy.context.${k}`] = v.slice(0, 256);
  const method = http.method ?? 'GET';
  const e = await d.enricher.request({
    method,
    target: http.path ?? '/',
    authority: http.host,
    scheme: http.scheme,
    headers,
    envoy,
  });
  if (http.id) e.attrs['meshtrace.envoy.request_id'] = http.id;
  const rule = denyingRule(d.cfg.authz.deny, method, e);
  if (rule) e.attrs['meshtrace.authz.denied_by'] = rule.name;
  e.attrs['meshtrace.authz.decision'] = rule ? 'deny' : 'allow';

  let traceHeaders: [string, string][] = [];
  let staleHeaders: string[] = [];
  let traceId: string | undefined;
  if (d.cfg.mode === 'span') {
    const hop = d.hop.begin({ method, path: e.path, authority: http.host ?? '', headers, attrs: e.attrs });
    traceId = hop.traceId;
    traceHeaders = hop.set;
    staleHeaders = hop.remove;
    // ext_authz never sees the response: the outcome we know is our own decision.
    hop.finish({ status: rule ? rule.status : 200 });
  } else {
    traceId = d.propagation.extract(headers)?.parent.traceId;
  }
  if (d.logger.enabled('debug'))
    d.logger.log('debug', 'ext_authz check', { trace_id: traceId, decision: rule ? 'deny' : 'allow', path: e.path });
  const dynamic_metadata = toStruct({ [d.cfg.metadataNamespace]: e.attrs });
  if (rule) {
    d.metrics.inc('checks_denied_total');
    return {
      status: { code: GrpcStatus.PERMISSION_DENIED, message: `denied by rule ${rule.name}` },
      denied_response: {
        // envoy.type.v3.StatusCode values are the HTTP codes themselves.
        status: { code: rule.status },
        headers: overwrite(traceHeaders, 'value'),
        body: `denied by meshtrace rule ${rule.name}\n`,
      },
      dynamic_metadata,
    };
  }
  return {
    status: { code: GrpcStatus.OK },
    ok_response: { headers: overwrite(traceHeaders, 'value'), headers_to_remove: staleHeaders },
    dynamic_metadata,
  };
}
