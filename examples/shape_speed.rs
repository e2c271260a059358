//! How fast a shape reads a file (host build): `cargo run --release --example shape_speed FILE PROGRAM`.
use edge_relay::relay::Sink;

fn main() {
    let mut args = std::env::args().skip(1);
    let (path, program) = (args.next().expect("a file"), args.next().expect("a program"));
    let document = std::fs::read(&path).unwrap();
    let plan = edge_relay::shape::Plan::new(&edge_relay::shape::parse(&program).unwrap());
    let paths = plan.paths();
    let started = std::time::Instant::now();
    let mut shaper = edge_relay::shape::Shaper::new(&plan, &paths, &[], u64::MAX, None);
    for chunk in document.chunks(65536) {
        shaper.push(chunk).unwrap();
    }
    let outputs = shaper.finish().unwrap();
    let took = started.elapsed().as_secs_f64();
    let bytes: usize = outputs.iter().map(Vec::len).sum();
    println!(
        "{:.1} MB in {:.3} s ({:.0} MB/s), {} bytes out",
        document.len() as f64 / 1e6,
        took,
        document.len() as f64 / 1e6 / took,
        bytes
    );
}
