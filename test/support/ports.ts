// Free TCP ports on 127.0.0.1 for servers a test starts in another process (Envoy, services):
// never a fixed port, tests run in parallel.
//
// A port is handed out, then bound later by the other process, so in between it must not be
// taken. Ports from listen(0) come from the kernel's ephemeral range (here 32768–60999), the same
// range every outgoing connection of every parallel test draws its source port from: one did
// take such a port before Envoy bound it ("cannot bind '127.0.0.1:42437': Address already in
// use"). So ports come from below that range, which connections never use, in a sequence of
// this process's own (its pid sets the start, so parallel test processes start far apart), and
// each is checked free by binding it.
import { createServer } from 'node:net';

const LOW = 20000;
const HIGH = 32767; // the kernel's ephemeral range starts at 32768 (net.ipv4.ip_local_port_range)
const SPAN = HIGH - LOW + 1;
// A stride coprime with SPAN walks every port of the range once before repeating.
const STRIDE = 7919;
let next = (process.pid * 104729) % SPAN;

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function ephemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 64; attempt++) {
    const port = LOW + next;
    next = (next + STRIDE) % SPAN;
    if (await tryBind(port)) return port;
  }
  // The low range is crowded (another program on the machine): fall back to the kernel's choice.
  return ephemeral();
}

export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
