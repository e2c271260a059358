"""How much linear memory a request body costs: for bodies of 1, 4 and 16 MiB, the smallest
`wasmtime serve -W max-memory-size` (binary search in 64 KiB pages) at which the relay still
forwards the body and answers 200. The body grows in place on the heap, so the cost is the body
plus a fixed part (the 128 KiB stack, the heap's base, one 64 KiB read chunk).

Usage: python3 bench/body_memory.py   (after scripts/build)
"""
import subprocess, socket, time, http.server, threading, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n=int(self.headers.get('content-length') or 0); self.rfile.read(n)
        b=b'{"a":1}'; self.send_response(200); self.send_header('content-length',str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self,*a): pass
up=http.server.ThreadingHTTPServer(('127.0.0.1',0),H); threading.Thread(target=up.serve_forever,daemon=True).start()
def ok(pages, body):
    port=19000+pages%500
    p=subprocess.Popen(['wasmtime','serve','--addr',f'127.0.0.1:{port}','-Scli','-W',f'max-memory-size={pages*65536}','--env',f'RELAY_UPSTREAM_URL=http://127.0.0.1:{up.server_address[1]}/','--env','RELAY_FIELDS=a','--env','RELAY_MAX_REQUEST_BYTES=67108864','dist/edge_relay.wasm'],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try: socket.create_connection(('127.0.0.1',port)).close(); break
            except OSError: time.sleep(0.05)
        s=socket.create_connection(('127.0.0.1',port)); s.sendall(b'POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: %d\r\n\r\n'%len(body)+body)
        data=b''
        while True:
            d=s.recv(65536)
            if not d: break
            data+=d
        return data.startswith(b'HTTP/1.1 200')
    finally:
        p.kill(); p.wait()
for mib in [1,4,16]:
    body=('{"pad":"'+'x'*(mib*1048576-10)+'"}').encode()
    lo,hi=1,mib*64*4
    while lo<hi:
        mid=(lo+hi)//2
        if ok(mid,body): hi=mid
        else: lo=mid+1
    print(f'{mib} MiB body: smallest linear memory {lo} pages = {lo*64} KiB = {lo*65536/len(body):.3f}x the body')
