//! The upstream URL as a template (`RELAY_UPSTREAM_URL`): the route's placeholders (`{id}`,
//! `{rest*}`) and the client's query parameters (`{query.city}`) in its path and query, each value
//! percent-encoded for where it lands, and the query parameters the relay adds (forwarded ones, the
//! API key).
//!
//! Only the path and the query can hold a placeholder: the scheme and the host are the operator's,
//! so the client can never choose where the request goes. A value in a path segment keeps nothing
//! but RFC 3986's unreserved bytes as they are (a `/` cannot split it, `..` spelled by the client
//! never matched the route anyway); `{rest*}` keeps the `/` between its segments and encodes each;
//! a value in the query cannot gain `&`, `=`, `#` or `+`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::Upstream;
use crate::error::RelayError;
use crate::route::{Params, Route, Value};
use crate::text;

/// A parsed `RELAY_UPSTREAM_URL`: the scheme and authority, and the path and query as written,
/// checked, filled in for each request (kept as text: the component is smaller for it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The scheme and authority, and the path's leading `/` when the URL has none.
    pub base: Upstream,
    text: String,
}

/// A `{...}` of the template: `{query.NAME}` (the client's query parameter) or `{name}`, `{name*}`.
enum Placeholder<'t> {
    Query(&'t str),
    Param(&'t str),
}

/// The next piece of `text`: the literal before the next `{`, the placeholder there, and the rest.
fn next_piece(text: &str) -> Result<(&str, Option<Placeholder<'_>>, &str), &'static str> {
    let (literal, after) = text::split_before(text, |b| b == b'{' || b == b'}').unwrap_or((text, ""));
    let Some(after) = text::strip_ascii_prefix(after, b'{') else {
        return if after.is_empty() { Ok((literal, None, "")) } else { Err("has a } without its {") };
    };
    let (inner, rest) = text::split_once(after, b'}').ok_or("has a { without its }")?;
    let placeholder = match inner.strip_prefix("query.") {
        Some(name) if !name.is_empty() => Placeholder::Query(name),
        _ => Placeholder::Param(text::strip_ascii_suffix(inner, b'*').unwrap_or(inner)),
    };
    Ok((literal, Some(placeholder), rest))
}

impl UrlTemplate {
    /// Parses a URL whose path and query may hold `{name}` placeholders of `route` (none when
    /// there is no route) and `{query.NAME}` ones.
    pub fn parse(url: &str, route: Option<&Route>) -> Result<UrlTemplate, &'static str> {
        let (base, text) = Upstream::split(url)?;
        let mut rest = text;
        let mut in_query = false;
        while !rest.is_empty() {
            let (literal, placeholder, after) = next_piece(rest)?;
            in_query |= literal.bytes().any(|b| b == b'?');
            if let Some(Placeholder::Param(name)) = placeholder {
                let known = route.and_then(|route| route.names().find(|(known, _)| *known == name));
                match known {
                    None => return Err("has a {placeholder} that RELAY_ROUTE does not define"),
                    Some((_, true)) if in_query => return Err("has a {name*} in its query"),
                    _ => {}
                }
            }
            rest = after;
        }
        Ok(UrlTemplate { base, text: String::from(text) })
    }

    /// The path and query for one request: `params` from the route, `query` the client's. Text
    /// the operator wrote goes out as [`Upstream::parse`] sends it; a value, in a path or a query,
    /// keeps only the unreserved bytes as they are.
    pub fn render(&self, params: &Params, query: &[(Vec<u8>, Vec<u8>)]) -> Result<String, RelayError> {
        let mut out = self.base.path_and_query.clone();
        let mut rest = self.text.as_str();
        let mut in_query = false;
        while !rest.is_empty() {
            // Checked by `parse`.
            let Ok((literal, placeholder, after)) = next_piece(rest) else { break };
            text::push_percent_encoded(&mut out, literal.as_bytes(), text::URL_AS_IS);
            in_query |= literal.bytes().any(|b| b == b'?');
            match placeholder {
                Some(Placeholder::Param(name)) => match params.iter().find(|(known, _)| *known == name).map(|(_, value)| value) {
                    Some(Value::One(value)) => text::push_percent_encoded(&mut out, value, text::UNRESERVED),
                    Some(Value::Rest(segments)) => {
                        for (i, segment) in segments.iter().enumerate() {
                            if i > 0 {
                                out.push_str("/");
                            }
                            text::push_percent_encoded(&mut out, segment, text::UNRESERVED);
                        }
                    }
                    None => {}
                },
                Some(Placeholder::Query(name)) => {
                    let value = query.iter().find(|(known, _)| known == name.as_bytes()).map(|(_, value)| value);
                    let value = value.ok_or_else(|| RelayError::MissingParameter { name: String::from(name) })?;
                    // In the path a query value is a segment, held to the route's rule: `..`,
                    // `%2e%2e`, `..%2F` or nothing at all would move the request elsewhere.
                    if !in_query && !crate::route::is_whole_segment(value) {
                        return Err(RelayError::InvalidParameter { name: String::from(name) });
                    }
                    text::push_percent_encoded(&mut out, value, text::UNRESERVED);
                }
                None => {}
            }
            rest = after;
        }
        Ok(out)
    }
}

/// Appends `name=value` to the query of `url` (starting one when it has none), both encoded.
pub fn append_query(url: &mut String, name: &[u8], value: &[u8]) {
    url.push_str(if url.bytes().any(|b| b == b'?') { "&" } else { "?" });
    text::push_percent_encoded(url, name, text::UNRESERVED);
    url.push_str("=");
    text::push_percent_encoded(url, value, text::UNRESERVED);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::query_params;

    fn render(url: &str, route: &str, target: &[u8]) -> Result<String, RelayError> {
        let route = Route::parse(route).unwrap();
        let template = UrlTemplate::parse(url, Some(&route)).unwrap();
        let params = route.matches(target).expect("the target matches the route");
        template.render(&params, &query_params(target))
    }

    #[test]
    fn placeholders_take_the_route_and_query_values() {
        assert_eq!(
            render("https://api.example.com/v2/users/{id}?fields=all", "/users/{id}", b"/users/7").unwrap(),
            "/v2/users/7?fields=all"
        );
        assert_eq!(
            render("https://api.example.com/forecast?q={query.city}&units=metric", "/weather", b"/weather?city=Oslo").unwrap(),
            "/forecast?q=Oslo&units=metric"
        );
        assert_eq!(render("http://h/{id}.json", "/u/{id}", b"/u/42").unwrap(), "/42.json");
        assert_eq!(render("http://h", "/", b"/").unwrap(), "/");
        assert_eq!(render("http://h?x=1", "/", b"/").unwrap(), "/?x=1");
    }

    #[test]
    fn each_value_is_encoded_for_where_it_lands() {
        let cases: [(&[u8], &str); 8] = [
            (b"/u/a%2Fb", "/users/a%2Fb?id=a%2Fb"),
            (b"/u/@evil.example", "/users/%40evil.example?id=%40evil.example"),
            (b"/u/a\\b", "/users/a%5Cb?id=a%5Cb"),
            (b"/u/%00", "/users/%00?id=%00"),
            (b"/u/%ff", "/users/%FF?id=%FF"),
            (b"/u/a&b=c#d", "/users/a%26b%3Dc%23d?id=a%26b%3Dc%23d"),
            ("/u/caf\u{e9}".as_bytes(), "/users/caf%C3%A9?id=caf%C3%A9"),
            (b"/u/a+b%20c", "/users/a%2Bb%20c?id=a%2Bb%20c"),
        ];
        for (target, expected) in cases {
            assert_eq!(render("http://h/users/{id}?id={id}", "/u/{id}", target).unwrap(), expected, "{target:?}");
        }
        let query = render("http://h/s?q={query.q}", "/", b"/?q=a%26b%3Dc%23d+e%2Bf").unwrap();
        assert_eq!(query, "/s?q=a%26b%3Dc%23d%20e%2Bf");
    }

    #[test]
    fn the_rest_keeps_its_slashes_and_encodes_each_segment() {
        assert_eq!(render("http://h/api/{rest*}", "/v1/{rest*}", b"/v1/a/b%2Fc/caf%C3%A9").unwrap(), "/api/a/b%2Fc/caf%C3%A9");
    }

    #[test]
    fn a_missing_query_parameter_is_named() {
        assert_eq!(render("http://h/f?q={query.city}", "/", b"/?town=x"), Err(RelayError::MissingParameter { name: "city".into() }));
        assert_eq!(render("http://h/f?q={query.city}", "/", b"/?city=").unwrap(), "/f?q=");
        // In the path, a query value is a segment: one that would climb is refused.
        let in_path = "http://h/v1/users/{query.id}/profile";
        assert_eq!(render(in_path, "/", b"/?id=7").unwrap(), "/v1/users/7/profile");
        assert_eq!(render(in_path, "/", b"/?id=a%2Fb").unwrap(), "/v1/users/a%2Fb/profile");
        for climbing in [&b"/?id=.."[..], b"/?id=%2e%2e", b"/?id=.", b"/?id=", b"/?id=..%2F..%2Fadmin", b"/?id=..%5Cx"] {
            assert_eq!(render(in_path, "/", climbing), Err(RelayError::InvalidParameter { name: "id".into() }), "{climbing:?}");
        }
        assert_eq!(render("http://h/f?q={query.id}", "/", b"/?id=..").unwrap(), "/f?q=..", "in a query, .. is a value");
    }

    #[test]
    fn placeholders_stay_out_of_the_scheme_and_host() {
        let route = Route::parse("/{id}/{rest*}").unwrap();
        let parse = |url| UrlTemplate::parse(url, Some(&route)).map(|_| ());
        let host = Err("has a placeholder in its scheme or host");
        assert_eq!(parse("http://{id}.example.com/"), host);
        assert_eq!(parse("http://h:{id}/"), host);
        assert_eq!(parse("{id}://h/"), host);
        assert_eq!(parse("http://h/{nope}"), Err("has a {placeholder} that RELAY_ROUTE does not define"));
        assert_eq!(UrlTemplate::parse("http://h/{id}", None).map(|_| ()), Err("has a {placeholder} that RELAY_ROUTE does not define"));
        assert_eq!(parse("http://h/?x={rest*}"), Err("has a {name*} in its query"));
        assert_eq!(parse("http://h/{id"), Err("has a { without its }"));
        assert_eq!(parse("http://h/id}"), Err("has a } without its {"));
        assert_eq!(parse("http://h/{query.q}?r={query.r}"), Ok(()));
    }

    #[test]
    fn added_parameters_are_encoded() {
        let mut url = String::from("/f");
        append_query(&mut url, b"appid", b"k&y=1");
        append_query(&mut url, b"q", "\u{e9}".as_bytes());
        assert_eq!(url, "/f?appid=k%26y%3D1&q=%C3%A9");
    }
}
