//! bench-upstream PORT [PAD_BYTES]: answers every request with the demo document, padded with a
//! string of PAD_BYTES bytes (default 0) placed before the fields the relays project.
//!
//! A fixed pool of threads accepts and serves connections, so that the relays' traffic, a new
//! connection per request (hosts do not pool outgoing connections), costs no thread spawn. A
//! request with `connection: close` gets its answer and the connection closed, which is how
//! bench/run measures that rate.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(18281);
    let pad: usize = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let body = format!(
        r#"{{"pad":"{}","data":{{"id":12345678901234567890123456789,"attributes":{{"name":"Caf\u00e9 \"Zo\u00eb\"","score":1.0e+2}}}},"meta":{{"status":"ok"}}}}"#,
        "x".repeat(pad)
    );
    let mut response = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    response.extend_from_slice(body.as_bytes());
    let response = Arc::new(response);
    let listener = Arc::new(TcpListener::bind(("127.0.0.1", port)).expect("bind"));
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (listener, response) = (listener.clone(), response.clone());
            std::thread::spawn(move || loop {
                if let Ok((stream, _)) = listener.accept() {
                    serve(stream, &response);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
}

fn serve(stream: TcpStream, response: &[u8]) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut chunked = false;
        let mut close = false;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            if header.starts_with("transfer-encoding:") && header.contains("chunked") {
                chunked = true;
            }
            if header.starts_with("connection:") && header.contains("close") {
                close = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut skip = vec![0; size + 2];
                if reader.read_exact(&mut skip).is_err() || size == 0 {
                    break;
                }
            }
        } else {
            let mut skip = vec![0; length];
            if reader.read_exact(&mut skip).is_err() {
                return;
            }
        }
        if writer.write_all(response).is_err() || close {
            return;
        }
    }
}
