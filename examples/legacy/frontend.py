"""frontend -- a "legacy" Python service (standard library only) that knows nothing of tracing.

GET /order/<n>: asks inventory for the item (GET /item/<n>), sometimes also for its availability
(GET /availability/<n>, when n % 4 == 0), "renders" for 0.5-2 ms, then asks pricing for a quote
(GET /quote/<n>) once or twice — all sequentially, from the request's own thread, through its
sidecar's outbound listeners (INVENTORY_URL, PRICING_URL). It forwards no trace headers.

Every call it makes carries an x-request-id of its own making — as many apps do for their logs.
GROUND_TRUTH (a file path, optional) receives one JSON line per request it served: the
x-request-id it received and those it sent. Only tests read that file; the proxies never see it.
"""
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
INVENTORY = os.environ["INVENTORY_URL"]
PRICING = os.environ["PRICING_URL"]
TRUTH = os.environ.get("GROUND_TRUTH")
ORDER = re.compile(r"^/order/([0-9]{1,9})$")
truth_lock = threading.Lock()


def get(url, sent):
    rid = str(uuid.uuid4())
    sent.append(rid)
    req = urllib.request.Request(url, headers={"x-request-id": rid})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def record(inbound, op, sent):
    if not TRUTH:
        return
    line = json.dumps({"service": "frontend", "in": inbound, "op": op, "out": sent}) + "\n"
    with truth_lock, open(TRUTH, "a") as f:
        f.write(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY the second waits for the
    # peer's delayed ACK (~40 ms) — a classic legacy stall, but not what these services model.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"ok": True})
        m = ORDER.match(self.path)
        if not m:
            return self.reply(404, {"error": "not found"})
        n = int(m.group(1))
        sent = []
        try:
            item = get(f"{INVENTORY}/item/{n}", sent)
            if n % 4 == 0:
                item["availability"] = get(f"{INVENTORY}/availability/{n}", sent)
            time.sleep(random.uniform(0.0005, 0.002))  # rendering
            quotes = [get(f"{PRICING}/quote/{n}", sent) for _ in range(1 + n % 2)]
        except Exception as err:  # a failed call is shown, not hidden
            record(self.headers.get("x-request-id"), "GET /order", sent)
            return self.reply(502, {"error": str(err)})
        record(self.headers.get("x-request-id"), "GET /order", sent)
        self.reply(200, {"service": "frontend", "lang": "python", "item": item, "quotes": quotes})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # access logs are the sidecar's job


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


server = Server(("127.0.0.1", PORT), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"frontend listening on 127.0.0.1:{PORT}", flush=True)
server.serve_forever()
