"""Clients that never read the answer: 16 of them ask the relay for an 8 MB answer and read
nothing. The relay's memory (the wasmtime serve process's RSS) is sampled once a second: it must
fall back once the relay's pause limit (RELAY_TIMEOUT_MS=2000 here) has passed, since the relay
then abandons each answer and its instance ends.

Usage: python3 bench/idle_clients.py [dist/edge_relay.wasm]   (after scripts/build)
"""
import socket, subprocess, sys, time, threading, http.server
art=sys.argv[1] if len(sys.argv) > 1 else "dist/edge_relay.wasm"
body=('{"a":"'+'y'*(8<<20)+'"}').encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n=int(self.headers.get('content-length') or 0); self.rfile.read(n)
        self.send_response(200); self.send_header('content-type','application/json'); self.send_header('content-length',str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self,*a): pass
up=http.server.ThreadingHTTPServer(('127.0.0.1',0),H); threading.Thread(target=up.serve_forever,daemon=True).start()
uport=up.server_address[1]
port=18990
p=subprocess.Popen(['wasmtime','serve','--addr',f'127.0.0.1:{port}','-Scli','--env',f'RELAY_UPSTREAM_URL=http://127.0.0.1:{uport}/','--env','RELAY_FIELDS=a','--env','RELAY_TIMEOUT_MS=2000','--env','RELAY_MAX_RESPONSE_BYTES=16777216',art],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
for _ in range(100):
    try: socket.create_connection(('127.0.0.1',port)).close(); break
    except OSError: time.sleep(0.1)
def rss():
    for l in open(f'/proc/{p.pid}/status'):
        if l.startswith('VmRSS'): return int(l.split()[1])//1024
base=rss()
socks=[]
for i in range(16):
    s=socket.create_connection(('127.0.0.1',port)); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}'); socks.append(s)
samples=[]
t0=time.time()
while time.time()-t0<12:
    samples.append((round(time.time()-t0,1), rss())); time.sleep(1)
print('wasmtime serve RSS (MiB) before the clients:', base)
print('then, second by second:', ', '.join(f'{t:.0f} s: {r}' for t, r in samples))
p.kill()
