// storefront — a "legacy" Node service that knows nothing of tracing. It calls inventory
// through its sidecar (INVENTORY_URL points at the sidecar's outbound listener) and forwards
// no headers at all, like most services written before distributed tracing.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const inventory = process.env.INVENTORY_URL;

const server = createServer(async (req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const m = /^\/shop\/items\/([A-Za-z0-9-]{1,32})$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return;
  }
  try {
    const r = await fetch(`${inventory}/stock/${m[1]}`);
    const stock = await r.json();
    res.writeHead(r.ok ? 200 : 502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'storefront', lang: 'node', item: m[1], stock }));
  } catch (err) {
    res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`storefront listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
