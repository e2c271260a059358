//! How fast the scanner alone reads a file (host build): `cargo run --release --example scan_speed FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let document = std::fs::read(&path).unwrap();
    let started = std::time::Instant::now();
    let mut scanner = edge_relay::json::Scanner::new(&[]);
    for chunk in document.chunks(65536) {
        scanner.feed(chunk).unwrap();
    }
    scanner.finish().unwrap();
    let took = started.elapsed().as_secs_f64();
    println!("{:.1} MB in {:.3} s: {:.0} MB/s", document.len() as f64 / 1e6, took, document.len() as f64 / 1e6 / took);
}
