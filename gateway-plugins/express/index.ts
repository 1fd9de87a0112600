// The same tracing and load balancing as the express-gateway plugin, as plain Express/Connect
// middleware for users without express-gateway:
//
//   const mt = createMeshtrace({ otlp_url: 'http://collector:4318/v1/traces', sampling: {…} });
//   app.use(mt.trace());                                   // SERVER span, sampling, headers
//   app.use('/api', mt.loadBalancer({ endpoints: [...] })); // CLIENT span per attempt
//
// Settings are the express-gateway plugin's (gateway-plugins/README.md); bad settings throw a
// ConfigError naming each field under `meshtrace.`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoadBalancer, parseLoadBalancerConfig } from '../shared/load-balancer.ts';
import { GatewayTracer, type RequestInfo } from '../shared/request-trace.ts';
import { parseGatewaySettings } from '../shared/settings.ts';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export interface TraceOptions {
  /** Route name for the span and per-route sampling (default: the request path). */
  route?: string;
  /** The authenticated consumer's id (never a credential). */
  consumer?: (req: IncomingMessage) => { id: string; type?: string } | undefined;
}

export interface Meshtrace {
  tracer: GatewayTracer;
  trace(options?: TraceOptions): Middleware;
  /** A terminal proxy stage; `config` is the `meshtrace-lb` action of the plugin. */
  loadBalancer(config: unknown): Middleware & { close(): void };
  shutdown(): Promise<void>;
}

export function createMeshtrace(settings: unknown): Meshtrace {
  const tracer = new GatewayTracer(parseGatewaySettings(settings, 'meshtrace'));
  const balancers: LoadBalancer[] = [];
  return {
    tracer,
    trace(options = {}) {
      // One info object for every request through this middleware: the consumer is read from
      // the request when a kept span ends.
      const info: RequestInfo = {};
      if (options.route) info.route = options.route;
      if (options.consumer) info.consumer = options.consumer;
      return (req, res, next) => {
        tracer.begin(req, res, info);
        next();
      };
    },
    loadBalancer(config) {
      const lb = new LoadBalancer(parseLoadBalancerConfig(config, 'meshtrace.load_balancer'));
      balancers.push(lb);
      // Express strips a mount path from req.url; the upstream gets the original URL.
      const handler = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
        if (req.originalUrl) req.url = req.originalUrl;
        lb.handle(req, res);
      };
      return Object.assign(handler, { close: () => lb.close() });
    },
    async shutdown() {
      for (const lb of balancers) lb.close();
      await tracer.shutdown();
    },
  };
}
