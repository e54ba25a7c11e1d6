"""A real HTTP server for the HTTP client's tests (stdlib only).

    python3 http_fixture.py PORT

GET|POST|PUT|DELETE /echo     -> 200, JSON {method, path, headers, body}
GET /status/N                 -> status N, body "status N"
GET /slow/MS                  -> waits MS milliseconds, then 200
GET /bytes/N                  -> 200 with N bytes
GET /redirect                 -> 302 to /echo
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Fixture", "yes")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.strip("/").split("/")
        if parts[0] == "echo":
            data = {"method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.hex()}
            self.reply(200, json.dumps(data).encode(), "application/json")
        elif parts[0] == "status":
            self.reply(int(parts[1]), f"status {parts[1]}".encode())
        elif parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
            self.reply(200, b"slow")
        elif parts[0] == "bytes":
            self.reply(200, b"x" * int(parts[1]))
        elif parts[0] == "redirect":
            self.reply(302, b"", extra=[("Location", "/echo")])
        else:
            self.reply(404, b"no such fixture")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
