"""stock -- a "legacy" Python leaf service (standard library only): it calls nobody.

GET /stock/<sku>, /reserve/<n>, /rate/<currency>: looks something up (1-6 ms, as a database would take)
and answers. GROUND_TRUTH (optional) gets one JSON line per request with no calls, so a test can
tell a leaf that answered from one that was never reached.
"""
import json
import os
import random
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
TRUTH = os.environ.get("GROUND_TRUTH")
ROUTE = re.compile(r"^/(stock|reserve|rate)/([0-9]{1,9}|[A-Z]{3})$")
truth_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY the second waits for the
    # peer's delayed ACK (~40 ms) — a classic legacy stall, but not what these services model.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"ok": True})
        m = ROUTE.match(self.path)
        if not m:
            return self.reply(404, {"error": "not found"})
        time.sleep(random.uniform(0.001, 0.006))
        if TRUTH:
            line = json.dumps({"service": "stock", "in": self.headers.get("x-request-id"), "op": f"GET /{m.group(1)}", "out": []})
            with truth_lock, open(TRUTH, "a") as f:
                f.write(line + "\n")
        self.reply(200, {"service": "stock", "lang": "python", "what": m.group(1), "key": m.group(2), "units": random.randint(0, 40)})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


server = Server(("127.0.0.1", PORT), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"stock listening on 127.0.0.1:{PORT}", flush=True)
server.serve_forever()
