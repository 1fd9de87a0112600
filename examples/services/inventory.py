"""inventory -- a "legacy" Python service with no tracing. It asks pricing (through its
sidecar, PRICING_URL) for a price and forwards no headers."""
import json
import os
import re
import signal
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
PRICING = os.environ["PRICING_URL"]
ITEM = re.compile(r"^/stock/([A-Za-z0-9-]{1,32})$")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"ok": True})
        m = ITEM.match(self.path)
        if not m:
            return self.reply(404, {"error": "not found"})
        item = m.group(1)
        try:
            with urllib.request.urlopen(f"{PRICING}/price/{item}", timeout=5) as r:
                price = json.load(r)
        except Exception as err:  # the demo shows failures, it does not hide them
            return self.reply(502, {"error": str(err)})
        units = sum(ord(c) for c in item) % 17
        self.reply(200, {"service": "inventory", "lang": "python", "units": units, "price": price})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("inventory: " + (fmt % args) + "\n")


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"inventory listening on 127.0.0.1:{PORT}", flush=True)
server.serve_forever()
