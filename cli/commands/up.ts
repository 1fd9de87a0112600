// `meshtrace up` — a local mesh on 127.0.0.1 (mesh-config/local/up.ts): Envoy edge gateway and
// sidecars with the meshtrace filter in front of three sample services (Node, Python, Go + Redis),
// ext_proc at the edge and the collector; drives traffic and prints where to look.
import { up } from '../../mesh-config/local/up.ts';

export const summary = 'start a local traced mesh (gateway, sidecars, 3 sample services, collector)';

const USAGE = `usage: meshtrace up [--once] [--requests N] [--port GATEWAY_PORT]
  --once        drive the traffic, print the summary, then stop everything
  --requests N  requests to drive through the gateway (default 12)
  --port P      gateway port (default 8080 when free)`;

export async function run(args: string[]): Promise<number> {
  const opts: { once?: boolean; requests?: number; gatewayPort?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = (name: string, min: number, max: number) => {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer ${min}–${max}`);
      return v;
    };
    try {
      if (a === '--once') opts.once = true;
      else if (a === '--requests') opts.requests = num('--requests', 1, 10000);
      else if (a === '--port') opts.gatewayPort = num('--port', 1, 65535);
      else if (a === '-h' || a === '--help') {
        console.log(USAGE);
        return 0;
      } else throw new Error(`unknown argument '${a}'`);
    } catch (err) {
      console.error(`meshtrace up: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  return up(opts);
}
