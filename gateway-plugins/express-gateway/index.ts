// express-gateway plugin manifest (plugin engine 1.2.0: `version`, `policies`, `schema`,
// `init(ctx)`), loaded by express-gateway with `require(plugins.<name>.package)`.
//
// It registers two policies:
//   meshtrace     – joins the trace: SERVER span, sampling, outbound headers, traceresponse.
//                   Put it first in a pipeline, before auth and the proxy.
//   meshtrace-lb  – terminal proxy stage: round-robin / least-pending over several endpoints
//                   with retries and failover, one CLIENT span per attempt.
//
// Settings are validated here (express-gateway only logs a plugin's failure to load and starts
// anyway); when they are wrong both policies are still registered but refuse to build, so a
// pipeline that uses them stops the gateway at start with the field named.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../../core/sampling/index.ts';
import { LoadBalancer, parseLoadBalancerConfig } from '../shared/load-balancer.ts';
import { GatewayTracer, type RequestInfo } from '../shared/request-trace.ts';
import { parseGatewaySettings } from '../shared/settings.ts';
import type { EgContext, EgPluginContext, EgRequest } from './eg-types.ts';

export const version = '1.2.0';
export const policies = ['meshtrace', 'meshtrace-lb'];

// Loose on purpose: express-gateway's own validator (ajv 6, coercing) would report
// `data.x should be …`; ours names the field the way the user wrote it.
export const schema = {
  $id: 'https://meshtrace.dev/schemas/express-gateway-plugin.json',
  type: 'object',
};

const PLUGIN = 'plugins.meshtrace';

let active: GatewayTracer | null = null;

/** The tracer of the loaded plugin (for flushing at shutdown and reading counters). */
export function activeTracer(): GatewayTracer | null {
  return active;
}

function refuse(message: string) {
  return () => {
    throw new Error(`meshtrace: invalid configuration\n${message}`);
  };
}

/** The consumer passport authenticated (a user or an app record): its id and type only. */
function consumerOf(req: IncomingMessage): { id: string; type?: string } | undefined {
  const user = (req as EgRequest).user;
  if (!user?.id) return undefined;
  return user.type === undefined ? { id: String(user.id) } : { id: String(user.id), type: user.type };
}

function routeOf(api: EgContext['apiEndpoint']): string | undefined {
  if (!api) return undefined;
  const paths = api.paths ?? api.path;
  if (typeof paths === 'string') return paths;
  if (Array.isArray(paths) && paths.length === 1) return String(paths[0]);
  return api.pathRegex ?? undefined;
}

export function init(ctx: EgPluginContext): void {
  let tracer: GatewayTracer | null = null;
  let settingsError: string | null = null;
  try {
    tracer = new GatewayTracer(parseGatewaySettings(ctx.settings, PLUGIN));
    active = tracer;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    settingsError = err.message;
    ctx.logger?.error?.(`meshtrace: invalid configuration\n${settingsError}`);
  }

  // Counters on the admin API (not the public listener): sampling decisions by reason, export
  // outcomes and drops, invalid inbound contexts, rejected debug tokens.
  if (tracer !== null) {
    const t = tracer;
    ctx.registerAdminRoute?.((app) => app.get('/meshtrace/counters', (_req, res) => res.json(t.snapshot())));
  }

  ctx.registerPolicy({
    name: 'meshtrace',
    schema: { $id: 'https://meshtrace.dev/schemas/express-gateway-policy-meshtrace.json', type: 'object' },
    policy:
      tracer === null
        ? refuse(settingsError ?? '')
        : (params: Record<string, unknown>) => {
            const problems: string[] = [];
            for (const [k, v] of Object.entries(params)) {
              if (typeof v === 'function') continue; // express-gateway's ActionParams helpers
              if (k !== 'route') problems.push(`meshtrace.action.${k}: unknown field`);
              else if (typeof v !== 'string' || v === '')
                problems.push('meshtrace.action.route: must be a non-empty string');
            }
            if (problems.length > 0) throw new Error(`meshtrace: invalid configuration\n${problems.join('\n')}`);
            const route = typeof params['route'] === 'string' ? params['route'] : undefined;
            const t = tracer;
            return (req: EgRequest, res: ServerResponse, next: () => void) => {
              const api = req.egContext?.apiEndpoint;
              const info: RequestInfo = {
                route: route ?? (routeOf(api) || undefined),
                apiEndpoint: api?.apiEndpointName || undefined,
                consumer: consumerOf,
              };
              t.begin(req as IncomingMessage, res, info);
              next();
            };
          },
  });

  ctx.registerPolicy({
    name: 'meshtrace-lb',
    schema: { $id: 'https://meshtrace.dev/schemas/express-gateway-policy-meshtrace-lb.json', type: 'object' },
    policy:
      settingsError !== null
        ? refuse(settingsError)
        : (params: Record<string, unknown>) => {
            // express-gateway mixes its ActionParams helpers into the action object: keep own data keys.
            const own = Object.fromEntries(Object.entries(params).filter(([, v]) => typeof v !== 'function'));
            let lb: LoadBalancer;
            try {
              lb = new LoadBalancer(parseLoadBalancerConfig(own, 'meshtrace-lb.action'));
            } catch (err) {
              if (err instanceof ConfigError) throw new Error(`meshtrace: invalid configuration\n${err.message}`);
              throw err;
            }
            return (req: EgRequest, res: ServerResponse) => lb.handle(req as IncomingMessage, res);
          },
  });
}
