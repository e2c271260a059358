//! peer-native URL BODY NAME=POINTER... : POSTs BODY to URL and prints {"NAME": value, ...}.
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(body)) = (args.first(), args.get(1)) else {
        eprintln!("usage: peer-native URL BODY NAME=POINTER...");
        return ExitCode::from(2);
    };
    let body: serde_json::Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(error) => {
            eprintln!("invalid JSON body: {error}");
            return ExitCode::from(3);
        }
    };
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
    let response = match client.post(url).json(&body).send().await {
        Ok(response) => response,
        Err(error) => {
            eprintln!("upstream unreachable: {error}");
            return ExitCode::from(4);
        }
    };
    if !response.status().is_success() {
        eprintln!("upstream status {}", response.status());
        return ExitCode::from(5);
    }
    let answer: serde_json::Value = match response.json().await {
        Ok(value) => value,
        Err(error) => {
            eprintln!("upstream invalid JSON: {error}");
            return ExitCode::from(3);
        }
    };
    let mut out = serde_json::Map::new();
    for spec in &args[2..] {
        let (name, pointer) = spec.split_once('=').unwrap_or((spec, spec));
        out.insert(name.to_string(), answer.pointer(pointer).cloned().unwrap_or(serde_json::Value::Null));
    }
    println!("{}", serde_json::Value::Object(out));
    ExitCode::SUCCESS
}
