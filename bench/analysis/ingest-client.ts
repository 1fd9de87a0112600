// The ingest bench's load generator, in its own process so its CPU is not charged to the collector:
// builds the requests, waits for {port, rounds}, then per round posts them all over keep-alive
// connections (retrying 429s after a short pause) and reports {refused} when done.
import { Agent, request } from 'node:http';
import { makeRequests } from './otlp-load.ts';

const CONCURRENCY = 4;
const requests = makeRequests(Number(process.argv[2] ?? 200));

function post(agent: Agent, port: number, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/traces',
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.byteLength },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function send(port: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const body = requests[next++] as Uint8Array;
        let status = await post(agent, port, body);
        while (status === 429) {
          refused++;
          await new Promise((r) => setTimeout(r, 20));
          status = await post(agent, port, body);
        }
        if (status !== 200) throw new Error(`ingest request failed with HTTP ${status}`);
      }
    }),
  );
  agent.destroy();
  return refused;
}

process.on('message', (msg: { port: number }) => {
  send(msg.port).then(
    (refused) => process.send?.({ refused }),
    (err: Error) => process.send?.({ error: err.message }),
  );
});
process.send?.({ ready: true });
