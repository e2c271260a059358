//! Why the relay has its own scanner instead of miniserde (named by the design card): miniserde
//! parses values into Rust types and re-encodes them, so the relay could not keep the upstream's
//! bytes. These tests pin that down; edge-relay's own scanner returns the bytes unchanged.

use edge_relay::json::extract;
use edge_relay::path::Path;
use miniserde::json::{self, Value};

const DOCUMENT: &str = r#"{"id":12345678901234567890123456789,"name":"caf\u00e9","score":1.0e+2}"#;

fn through_miniserde(document: &str, key: &str) -> String {
    let Value::Object(object) = json::from_str::<Value>(document).unwrap() else { panic!("not an object") };
    json::to_string(&object[key])
}

fn through_edge_relay(document: &str, key: &str) -> String {
    let values = extract(document.as_bytes(), &[Path::parse(key).unwrap()]).unwrap();
    String::from_utf8(values[0].clone().unwrap()).unwrap()
}

#[test]
fn miniserde_loses_the_digits_of_big_integers() {
    assert_ne!(through_miniserde(DOCUMENT, "id"), "12345678901234567890123456789");
    assert_eq!(through_edge_relay(DOCUMENT, "id"), "12345678901234567890123456789");
}

#[test]
fn miniserde_re_encodes_strings_and_numbers() {
    assert_ne!(through_miniserde(DOCUMENT, "name"), r#""caf\u00e9""#);
    assert_ne!(through_miniserde(DOCUMENT, "score"), "1.0e+2");
    assert_eq!(through_edge_relay(DOCUMENT, "name"), r#""caf\u00e9""#);
    assert_eq!(through_edge_relay(DOCUMENT, "score"), "1.0e+2");
}
