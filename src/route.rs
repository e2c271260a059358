//! Routes: the path pattern a relay answers (`RELAY_ROUTE`), matched against the client's path,
//! and the client's query string, read into its parameters.
//!
//! A pattern is a path of segments: a literal (`users`), `{name}` for one non-empty segment, or, as
//! the last one, `{name*}` for the rest of the path (one or more segments). Segments are compared
//! and captured percent-decoded, so `%2F` inside a segment stays one segment's `/`, and a value is
//! re-encoded for where it lands in the upstream URL ([`crate::template`]). A `.` or `..` segment,
//! spelled out or escaped (`%2e%2e`), and an empty one never match: no client path can climb out of
//! the place the operator gave the upstream.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::hex_value;
use crate::text;

/// A parsed `RELAY_ROUTE`: its text, checked, matched segment by segment when a request comes
/// (kept as text, not as a list of pieces: the component is smaller for it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    pattern: String,
}

/// What a placeholder captured: one decoded segment, or the decoded segments of the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    One(Vec<u8>),
    Rest(Vec<Vec<u8>>),
}

/// The placeholders' names and values, in the pattern's order.
pub type Params<'r> = Vec<(&'r str, Value)>;

/// A segment of a pattern: a placeholder's name and whether it takes the rest, or a literal.
fn placeholder(segment: &str) -> Option<(&str, bool)> {
    let inner = text::strip_ascii_prefix(segment, b'{')?;
    let inner = text::strip_ascii_suffix(inner, b'}')?;
    Some(match text::strip_ascii_suffix(inner, b'*') {
        Some(name) => (name, true),
        None => (inner, false),
    })
}

impl Route {
    /// Parses a pattern: `/users/{id}`, `/v1/{rest*}`, `/weather`.
    pub fn parse(pattern: &str) -> Result<Route, &'static str> {
        let pattern = pattern.trim_ascii();
        let rest = text::strip_ascii_prefix(pattern, b'/').ok_or("must start with /")?;
        let route = Route { pattern: String::from(rest) };
        let mut after_rest = false;
        for segment in route.segments() {
            if after_rest {
                return Err("has a segment after a {name*}");
            }
            match placeholder(segment) {
                Some((name, is_rest)) => {
                    check_name(name)?;
                    if route.names().filter(|(known, _)| *known == name).count() > 1 {
                        return Err("names a placeholder twice");
                    }
                    after_rest = is_rest;
                }
                None if segment.is_empty() => return Err("has an empty segment"),
                None if segment.bytes().any(|b| b == b'{' || b == b'}') => return Err("has a { or } that is not a whole {name} segment"),
                None => {}
            }
        }
        Ok(route)
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        text::split(&self.pattern, b'/').filter(|_| !self.pattern.is_empty())
    }

    /// The placeholders, by name, each with whether it takes the rest of the path.
    pub fn names(&self) -> impl Iterator<Item = (&str, bool)> {
        self.segments().filter_map(placeholder)
    }

    /// Matches the path of a request target (`/users/7?x=1`: the query is ignored); the captured
    /// values, or `None` when the path is outside the pattern.
    pub fn matches(&self, target: &[u8]) -> Option<Params<'_>> {
        let path = target.split(|&b| b == b'?').next().unwrap_or(&[]);
        // `/` alone is the one path with an empty segment that a pattern (`/`) may match.
        if path == b"/" {
            return self.pattern.is_empty().then(Vec::new);
        }
        let (&b'/', path) = path.split_first()? else { return None };
        // Each segment is decoded as the pattern reaches it, not collected first: a bad one
        // anywhere means no match either way, and the component is smaller for it. A decoded
        // segment may hold a `/` (from `%2F`), which goes upstream encoded again; but an empty
        // one, or one that would climb (`..%2F`, `..\\`) where an upstream decodes it first, is refused.
        let decoded = |segment: &[u8]| {
            let segment = percent_decode(segment);
            is_whole_segment(&segment).then_some(segment)
        };
        let mut params = Vec::new();
        let mut given = path.split(|&b| b == b'/');
        for segment in self.segments() {
            match placeholder(segment) {
                None => {
                    if decoded(given.next()?)? != percent_decode(segment.as_bytes()) {
                        return None;
                    }
                }
                Some((name, false)) => params.push((name, Value::One(decoded(given.next()?)?))),
                Some((name, true)) => {
                    let mut rest = Vec::new();
                    for segment in given.by_ref() {
                        rest.push(decoded(segment)?);
                    }
                    if rest.is_empty() {
                        return None;
                    }
                    params.push((name, Value::Rest(rest)));
                }
            }
        }
        given.next().is_none().then_some(params)
    }
}

/// Whether a decoded value may stand as a path segment: not empty, and no `/`- or `\\`-separated
/// part of it `.` or `..` (an upstream that decodes `%2F` first would climb with `..%2F`).
pub fn is_whole_segment(segment: &[u8]) -> bool {
    !segment.is_empty() && !segment.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"." || part == b"..")
}

/// A placeholder's name: letters, digits, `_` and `-`.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || !text::all_in(name.as_bytes(), text::NAME) {
        return Err("has a placeholder whose name is not letters, digits, _ or -");
    }
    Ok(())
}

/// `%XX` escapes decoded (a `%` not followed by two hex digits stays as it is), and, in a query
/// (`plus_is_space`), `+` as a space, as HTML forms and URLSearchParams write it.
pub fn decode(text: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        let escaped = match (text.get(i + 1).and_then(|&h| hex_value(h)), text.get(i + 2).and_then(|&l| hex_value(l))) {
            (Some(high), Some(low)) if b == b'%' => Some(high << 4 | low),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(if plus_is_space && b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    out
}

fn percent_decode(text: &[u8]) -> Vec<u8> {
    decode(text, false)
}

/// The parameters of a request target's query (`/x?a=1&b=%20&c`), decoded, in order; a parameter
/// without `=` has the empty value.
pub fn query_params(target: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    // A plain loop: the `filter`/`map`/`collect` chain cost 276 bytes more.
    let mut params = Vec::new();
    let Some(at) = target.iter().position(|&b| b == b'?') else { return params };
    let query = target.get(at + 1..).unwrap_or(&[]);
    let query = query.split(|&b| b == b'#').next().unwrap_or(&[]);
    for pair in query.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (pair.get(..at).unwrap_or(&[]), pair.get(at + 1..).unwrap_or(&[])),
            None => (pair, &[][..]),
        };
        params.push((decode(name, true), decode(value, true)));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn one(text: &str) -> Value {
        Value::One(text.as_bytes().to_vec())
    }

    #[test]
    fn patterns_parse_or_say_why_not() {
        assert_eq!(Route::parse("/users/{id}").unwrap().names().collect::<Vec<_>>(), [("id", false)]);
        assert_eq!(Route::parse("/v1/{rest*}").unwrap().names().collect::<Vec<_>>(), [("rest", true)]);
        assert_eq!(Route::parse("users"), Err("must start with /"));
        assert_eq!(Route::parse("/a//b"), Err("has an empty segment"));
        assert_eq!(Route::parse("/a/{r*}/b"), Err("has a segment after a {name*}"));
        assert_eq!(Route::parse("/a/x{id}"), Err("has a { or } that is not a whole {name} segment"));
        assert_eq!(Route::parse("/{a}/{a}"), Err("names a placeholder twice"));
        assert!(Route::parse("/{a b}").is_err() && Route::parse("/{}").is_err() && Route::parse("/{*}").is_err());
    }

    #[test]
    fn paths_match_segment_by_segment() {
        let route = Route::parse("/users/{id}").unwrap();
        assert_eq!(route.matches(b"/users/7"), Some(vec![("id", one("7"))]));
        assert_eq!(route.matches(b"/users/7?x=1"), Some(vec![("id", one("7"))]));
        for outside in [&b"/users"[..], b"/users/", b"/users/7/", b"/users/7/x", b"/user/7", b"/", b"", b"users/7"] {
            assert_eq!(route.matches(outside), None, "{:?}", core::str::from_utf8(outside));
        }
        let any = Route::parse("/").unwrap();
        assert_eq!(any.matches(b"/"), Some(vec![]));
        assert_eq!(any.matches(b"/x"), None);
        let literal = Route::parse("/weather").unwrap();
        assert_eq!(literal.matches(b"/weath%65r"), Some(vec![]));
    }

    #[test]
    fn hostile_spellings_are_decoded_values_or_no_match() {
        let route = Route::parse("/users/{id}").unwrap();
        assert_eq!(route.matches(b"/users/a%2Fb"), Some(vec![("id", one("a/b"))]));
        assert_eq!(route.matches(b"/users/@evil.example"), Some(vec![("id", one("@evil.example"))]));
        assert_eq!(route.matches(b"/users/a\\b"), Some(vec![("id", one("a\\b"))]));
        assert_eq!(route.matches(b"/users/%00"), Some(vec![("id", Value::One(vec![0]))]));
        assert_eq!(route.matches(b"/users/%ff%fe"), Some(vec![("id", Value::One(vec![0xff, 0xfe]))]));
        assert_eq!(route.matches("/users/caf\u{e9}".as_bytes()), Some(vec![("id", one("caf\u{e9}"))]));
        assert_eq!(route.matches(b"/users/100%"), Some(vec![("id", one("100%"))]));
        for dots in [
            &b"/users/.."[..],
            b"/users/.",
            b"/users/%2e%2e",
            b"/users/%2E",
            b"/users/.%2e",
            b"/users/..%2F",
            b"/users/a%2F..",
            b"/users/..\\x",
        ] {
            assert_eq!(route.matches(dots), None, "{:?}", core::str::from_utf8(dots));
        }
        let long = alloc::format!("/users/{}", "x".repeat(8192));
        assert_eq!(route.matches(long.as_bytes()), Some(vec![("id", one(&"x".repeat(8192)))]));
    }

    #[test]
    fn the_rest_takes_one_or_more_segments_never_a_dot_one() {
        let route = Route::parse("/v1/{rest*}").unwrap();
        let rest = |parts: &[&str]| Some(vec![("rest", Value::Rest(parts.iter().map(|p| p.as_bytes().to_vec()).collect()))]);
        assert_eq!(route.matches(b"/v1/a"), rest(&["a"]));
        assert_eq!(route.matches(b"/v1/a/b%2Fc/d"), rest(&["a", "b/c", "d"]));
        for outside in [&b"/v1"[..], b"/v1/", b"/v1/a/", b"/v1/a//b", b"/v1/a/../b", b"/v1/%2e%2e/x", b"/v2/a"] {
            assert_eq!(route.matches(outside), None, "{:?}", core::str::from_utf8(outside));
        }
    }

    #[test]
    fn queries_are_read_decoded_in_order() {
        let params = query_params(b"/x?city=Oslo&q=a+b%26c&flag&=v&city=Bergen&e=%zz#frag");
        let text: Vec<(&[u8], &[u8])> = params.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
        assert_eq!(
            text,
            [(&b"city"[..], &b"Oslo"[..]), (b"q", b"a b&c"), (b"flag", b""), (b"", b"v"), (b"city", b"Bergen"), (b"e", b"%zz")]
        );
        assert!(query_params(b"/x").is_empty() && query_params(b"/x?").is_empty());
    }
}
