"""A small demo upstream API on loopback: answers every JSON request with a nested document that
shows what edge-relay preserves (a 29-digit id, escapes, unicode) and echoes the request back.

Usage: python3 scripts/demo_upstream.py [PORT]   (default 8081)
"""
import http.server
import json
import sys


class DemoApi(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            echo = json.loads(raw) if raw else None
        except ValueError:
            echo = raw.decode("utf-8", "replace")
        # Built as text so the big integer and the escapes reach the relay exactly as written.
        body = (
            '{"data":{"id":12345678901234567890123456789,'
            '"attributes":{"name":"Caf\\u00e9 \\"Zo\\u00eb\\"","score":1.0e+2,"tags":["edge","wasm"]},'
            '"echo":' + json.dumps(echo) + '},'
            '"meta":{"status":"ok","request_bytes":' + str(len(raw)) + '}}'
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    http.server.ThreadingHTTPServer(("127.0.0.1", port), DemoApi).serve_forever()
