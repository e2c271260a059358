"""A small demo upstream API on loopback.

- GET /api/users/<id>[?lang=..]: a user document that echoes the id and the lang it received, so a
  relay's route placeholder and query template can be seen to arrive.
- GET /api/weather?city=..: a forecast document for the city it received.
- GET /api/search?q=..: a page of search results (an `items` array), for a shape to pick from.
- Anything else (POST /api, say): a nested document that shows what edge-relay preserves (a 29-digit
  id, escapes, unicode) and echoes the request's JSON back.

Usage: python3 scripts/demo_upstream.py [PORT]   (default 8081)
"""
import http.server
import json
import sys
from urllib.parse import parse_qs, unquote, urlsplit

GREETINGS = {"en": "Hello", "nb": "Hei", "fr": "Bonjour", "de": "Hallo"}
WEATHER = {"Oslo": (-3.5, "snow"), "Lisbon": (17.0, "sun"), "S\u00e3o Paulo": (24.5, "rain")}


def user(user_id, lang):
    return {
        "data": {
            "id": user_id,
            "lang": lang,
            "name": "Zo\u00eb" if user_id == "7" else "User " + user_id,
            "greeting": GREETINGS.get(lang or "en", GREETINGS["en"]),
        },
        "meta": {"status": "ok"},
    }


def weather(city):
    temp, condition = WEATHER.get(city, (12.0, "clouds"))
    return {"location": {"city": city}, "current": {"temp_c": temp, "condition": condition}}


class DemoApi(http.server.BaseHTTPRequestHandler):
    def send_json(self, body):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        segments = url.path.split("/")
        if self.command == "GET" and len(segments) == 4 and segments[:3] == ["", "api", "users"] and segments[3]:
            lang = query.get("lang", [None])[0]
            return self.send_json(json.dumps(user(unquote(segments[3]), lang)).encode())
        if self.command == "GET" and url.path == "/api/search":
            # As text: the prices keep their spelling and the ids their 20 digits.
            q = json.dumps(query.get("q", [""])[0])
            body = (
                '{"query":' + q + ',"total":3,"items":['
                '{"id":10000000000000000001,"name":"Caf\\u00e9 cup","price":4.50,"available":true,"tags":["kitchen"]},'
                '{"id":10000000000000000002,"name":"Tea pot","price":1.2e+1,"available":false,"tags":[]},'
                '{"id":10000000000000000003,"name":"Mug \\"Zo\\u00eb\\"","price":6.00,"available":true,"tags":["gift","kitchen"]}'
                '],"page":{"next":null}}'
            ).encode()
            return self.send_json(body)
        if self.command == "GET" and url.path == "/api/weather":
            return self.send_json(json.dumps(weather(query.get("city", [""])[0])).encode())
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
        self.send_json(body)

    do_GET = do_POST = do_PUT = do_PATCH = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    http.server.ThreadingHTTPServer(("127.0.0.1", port), DemoApi).serve_forever()
