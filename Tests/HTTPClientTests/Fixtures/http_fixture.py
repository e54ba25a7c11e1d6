"""A real HTTP server for the HTTP client's tests (stdlib, and botocore to check SigV4).

    python3 http_fixture.py PORT

GET|POST|PUT|DELETE /echo     -> 200, JSON {method, path, headers, body}
GET /status/N                 -> status N, body "status N"
GET /slow/MS                  -> waits MS milliseconds, then 200
GET /bytes/N                  -> 200 with N bytes
GET /redirect                 -> 302 to /echo
/sigv4/…                      -> 200 {"valid": bool, …}: the request's AWS SigV4 signature checked with botocore
"""
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Imported before the server listens, not by the first signed request: a cold import of botocore
# takes seconds on a loaded machine, and the tests' parallel requests would all wait on it.
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


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
        elif parts[0] == "trickle":
            # n bytes in 1000-byte chunks without a Content-Length (the size is unknown up front)
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for offset in range(0, int(parts[1]), 1000):
                self.wfile.write(b"y" * min(1000, int(parts[1]) - offset))
                self.wfile.flush()
            self.close_connection = True
        elif parts[0] == "stall":
            # headers and a first byte, then nothing for n ms
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"z")
            self.wfile.flush()
            time.sleep(int(parts[1]) / 1000)
            self.wfile.write(b"z")
        elif parts[0] == "sigv4":
            self.check_sigv4(body)
        elif parts[0] == "redirect":
            self.reply(302, b"", extra=[("Location", "/echo")])
        else:
            self.reply(404, b"no such fixture")

    def check_sigv4(self, body):
        """Recomputes the request's AWS SigV4 signature with botocore (secret: fixture-secret)."""
        match = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
                         r"SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$", self.headers.get("Authorization", ""))
        if not match:
            self.reply(401, json.dumps({"error": "no SigV4 Authorization header"}).encode(), "application/json")
            return
        key, _, region, service, signed, signature = match.groups()
        headers = {name: self.headers.get(name) for name in signed.split(";")}
        request = AWSRequest(method=self.command, url="http://" + self.headers.get("Host") + self.path, headers=headers, data=body)
        request.context["timestamp"] = self.headers.get("x-amz-date")
        # S3's variant: paths are not encoded twice and the payload hash is the header's.
        auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, "fixture-secret"), service, region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        data = {"valid": expected == signature, "key": key, "region": region, "service": service, "signed_headers": signed.split(";")}
        self.reply(200 if data["valid"] else 403, json.dumps(data).encode(), "application/json")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
