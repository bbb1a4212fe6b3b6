"""A fake Tellus server on loopback that replays canned answers, errors included (as QuickOSM does)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Trickle(bytes):
    """A body sent ``piece`` bytes at a time, ``delay_s`` seconds apart (a slow download)."""

    def __new__(cls, data, piece=32768, delay_s=0.05):
        self = super().__new__(cls, data)
        self.piece, self.delay_s = piece, delay_s
        return self


class FakeTellus:
    """Routes ``(method, path)`` to a list of answers served in turn: (status, headers, body bytes or dict)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                server.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                answers = server.routes.get((self.command, path))
                if not answers:
                    self.send_response(404)
                    self.end_headers()
                    self.wfile.write(b'{"code": "not_found", "detail": "Not found."}')
                    return
                status, headers, payload = answers.pop(0) if len(answers) > 1 else answers[0]
                if callable(payload):
                    status, headers, payload = payload(self)
                data = json.dumps(payload).encode() if isinstance(payload, (dict, list)) else payload
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if isinstance(payload, Trickle):
                    for start in range(0, len(data), payload.piece):
                        self.wfile.write(data[start : start + payload.piece])
                        self.wfile.flush()
                        time.sleep(payload.delay_s)
                else:
                    self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add(self, method, path, *answers):
        self.routes[(method, path)] = list(answers)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
