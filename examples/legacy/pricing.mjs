// pricing — a "legacy" Node service (no dependencies) that knows nothing of tracing.
//
// GET /quote/<n>: asks stock for exchange rates (GET /rate/EUR, /rate/USD, /rate/GBP — the first
// 1 + n % 3 of them), one after the other, through its sidecar's outbound listener (STOCK_URL),
// on keep-alive connections from Node's agent. Many requests are in
// flight at once on the one event loop. It forwards no trace headers.
//
// Every call carries an x-request-id of its own making; GROUND_TRUTH (optional) receives one JSON
// line per request served: the x-request-id it received and those it sent (tests only).
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const PORT = Number(process.env.PORT);
const STOCK = process.env.STOCK_URL;
const TRUTH = process.env.GROUND_TRUTH;
const QUOTE = /^\/quote\/([0-9]{1,9})$/;
const CURRENCIES = ['EUR', 'USD', 'GBP'];

function get(url, sent) {
  const id = randomUUID();
  sent.push(id);
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'x-request-id': id }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        else resolve(JSON.parse(body));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

function record(inbound, sent) {
  // Synchronous append: one line per request, never interleaved on the one thread.
  if (TRUTH)
    appendFileSync(TRUTH, `${JSON.stringify({ service: 'pricing', in: inbound, op: 'GET /quote', out: sent })}\n`);
}

function reply(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/healthz') return reply(res, 200, { ok: true });
  const m = QUOTE.exec(req.url ?? '');
  if (!m) return reply(res, 404, { error: 'not found' });
  const n = Number(m[1]);
  const sent = [];
  try {
    const rates = [];
    for (const currency of CURRENCIES.slice(0, 1 + (n % 3))) rates.push(await get(`${STOCK}/rate/${currency}`, sent));
    record(req.headers['x-request-id'], sent);
    reply(res, 200, { service: 'pricing', lang: 'node', n, price: 100 + (n % 50), rates: rates.length });
  } catch (err) {
    record(req.headers['x-request-id'], sent);
    reply(res, 502, { error: String(err) });
  }
});
server.listen(PORT, '127.0.0.1', () => console.log(`pricing listening on 127.0.0.1:${PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
