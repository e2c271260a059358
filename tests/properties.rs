//! Property tests on the host build: generated documents and paths, arbitrary bytes, arbitrary
//! configuration text. The differential oracle is tests/oracle (serde_json).

mod oracle;

use edge_relay::config::{parse_header_list, Config, Upstream};
use edge_relay::field::parse_list;
use edge_relay::json::{validate, Scanner};
use edge_relay::path::Path;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,10})?([eE][+-]?[0-9]{1,3})?".prop_map(|n| serde_json::from_str::<Value>(&n).unwrap()),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-c0-2é\"\\\\]{0,3}", inner), 0..6).prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Every path that leads somewhere in `value`, plus some that lead nowhere.
fn paths_in(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Path>) {
    let pointer: String = prefix.iter().map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1"))).collect();
    out.push(Path::parse(&pointer).unwrap());
    out.push(Path::parse(&format!("{pointer}/missing")).unwrap());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(key.clone());
                paths_in(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(index.to_string());
                paths_in(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_project_like_serde_json(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
        let mut paths = Vec::new();
        paths_in(&value, &mut Vec::new(), &mut paths);
        for chunk in paths.chunks(64) {
            oracle::check(text.as_bytes(), chunk);
        }
    }

    #[test]
    fn arbitrary_bytes_get_serde_json_verdicts(bytes in prop::collection::vec(prop_oneof![
        3 => prop::sample::select(b"{}[]\":,0123456789.eE+-tfnrulase\\ \n/u".to_vec()),
        1 => any::<u8>(),
    ], 0..64)) {
        let paths = [Path::parse("").unwrap(), Path::parse("/0").unwrap(), Path::parse("/a").unwrap()];
        oracle::check(&bytes, &paths);
    }

    #[test]
    fn chunking_never_changes_a_result(value in json_value(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let text = serde_json::to_string(&value).unwrap();
        let bytes = text.as_bytes();
        let paths = [Path::parse("/0").unwrap(), Path::parse("").unwrap()];
        let refs: Vec<&Path> = paths.iter().collect();
        let whole = edge_relay::json::extract(bytes, &paths);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort();
        let mut scanner = Scanner::new(&refs);
        let mut start = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            scanner.feed(&bytes[start..cut]).unwrap();
            start = cut;
        }
        prop_assert_eq!(scanner.finish(), whole);
    }

    #[test]
    fn configuration_text_never_panics(text in "\\PC{0,40}", raw in prop::collection::vec(any::<u8>(), 0..40)) {
        let lossy = String::from_utf8_lossy(&raw).into_owned();
        for input in [&text, &lossy] {
            let _ = parse_list(input);
            let _ = parse_header_list(input);
            let _ = Upstream::parse(input);
            let _ = Path::parse(input);
            let env = vec![("RELAY_UPSTREAM_URL".to_string(), input.clone()), ("RELAY_FIELDS".to_string(), input.clone())];
            if let Ok(config) = Config::from_env(&env) {
                // Whatever is accepted is usable: fields have names, the URL has a host.
                prop_assert!(config.job.fields.iter().all(|f| !f.name.is_empty()));
                prop_assert!(!config.job.upstream.authority.is_empty());
            }
        }
    }

    #[test]
    fn errors_are_always_valid_json(bytes in prop::collection::vec(any::<u8>(), 0..32)) {
        if let Err(error) = validate(&bytes) {
            let body = edge_relay::error::RelayError::UpstreamInvalidJson(error).to_json();
            prop_assert!(validate(&body).is_ok());
        }
    }
}

/// Route placeholders and template values, whatever the client spells: the upstream path the
/// relay builds never holds a dot segment, nor a byte RFC 3986 does not allow, nor more segments
/// than the template and the route give it; and each value decodes back to what the client sent.
mod shaping {
    use edge_relay::route::{query_params, Route};
    use edge_relay::template::UrlTemplate;
    use proptest::prelude::*;

    /// Percent-decodes a URL part (for the round trip).
    fn decoded(text: &str) -> Vec<u8> {
        edge_relay::route::decode(text.as_bytes(), false)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn a_value_never_leaves_its_segment(segment in prop::collection::vec(any::<u8>(), 1..24), query in prop::collection::vec(any::<u8>(), 0..24)) {
            let route = Route::parse("/users/{id}").unwrap();
            let template = UrlTemplate::parse("http://h/v2/users/{id}/x?q={query.q}&k=1", Some(&route)).unwrap();
            // The client's spelling: the segment percent-encoded byte by byte, so any byte can come.
            let spelled: String = segment.iter().map(|b| format!("%{b:02X}")).collect();
            let query_spelled: String = query.iter().map(|b| format!("%{b:02X}")).collect();
            let target = format!("/users/{spelled}?q={query_spelled}");
            let Some(params) = route.matches(target.as_bytes()) else {
                // Refused only for a dot segment, or one that climbs once decoded.
                let climbs = segment.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"." || part == b"..");
                prop_assert!(climbs, "{target} refused");
                return Ok(());
            };
            let path = template.render(&params, &query_params(target.as_bytes())).unwrap();
            prop_assert!(path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)), "{path}");
            let (path_part, query_part) = path.split_once('?').unwrap();
            let segments: Vec<&str> = path_part.split('/').collect();
            prop_assert_eq!(segments.len(), 5, "{}", path);
            prop_assert!(segments.iter().all(|s| *s != "." && *s != ".."));
            prop_assert_eq!(decoded(segments[3]), segment.clone());
            let pairs: Vec<&str> = query_part.split('&').collect();
            prop_assert_eq!(pairs.len(), 2, "{}", path);
            prop_assert_eq!(decoded(pairs[0].strip_prefix("q=").unwrap()), query);
        }

        #[test]
        fn the_rest_keeps_its_segments_apart(segments in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..8), 1..5)) {
            let route = Route::parse("/v1/{rest*}").unwrap();
            let template = UrlTemplate::parse("http://h/api/{rest*}", Some(&route)).unwrap();
            let spelled: Vec<String> = segments.iter().map(|s| s.iter().map(|b| format!("%{b:02X}")).collect()).collect();
            let target = format!("/v1/{}", spelled.join("/"));
            let Some(params) = route.matches(target.as_bytes()) else {
                let climbs = segments.iter().any(|s| s.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"." || part == b".."));
                prop_assert!(climbs, "{target} refused");
                return Ok(());
            };
            let path = template.render(&params, &[]).unwrap();
            let out: Vec<Vec<u8>> = path.trim_start_matches("/api/").split('/').map(decoded).collect();
            prop_assert_eq!(out, segments);
        }
    }
}
