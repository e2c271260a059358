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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Text written by the operator, already percent-encoded.
    Text(String),
    /// `{name}` or `{name*}`: a route placeholder.
    Param(String),
    /// `{query.NAME}`: a parameter of the client's query.
    Query(String),
}

/// A parsed `RELAY_UPSTREAM_URL`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The scheme and authority, and the path's leading `/` when the URL has none.
    pub base: Upstream,
    parts: Vec<Part>,
    /// Where the query starts in `parts` (its `?` is in the text before), if the URL has one.
    query_at: Option<usize>,
}

impl UrlTemplate {
    /// Parses a URL whose path and query may hold `{name}` placeholders of `route` (none when
    /// there is no route) and `{query.NAME}` ones.
    pub fn parse(url: &str, route: Option<&Route>) -> Result<UrlTemplate, &'static str> {
        let (base, rest) = Upstream::split(url)?;
        let mut template = UrlTemplate { base, parts: Vec::new(), query_at: None };
        let mut rest = rest;
        while !rest.is_empty() {
            let (literal, after) = text::split_before(rest, |b| b == b'{' || b == b'}').unwrap_or((rest, ""));
            template.push_text(literal);
            let Some(after) = text::strip_ascii_prefix(after, b'{') else {
                if after.is_empty() {
                    break;
                }
                return Err("has a } without its {");
            };
            let (inner, after) = text::split_once(after, b'}').ok_or("has a { without its }")?;
            let part = match inner.strip_prefix("query.") {
                Some(name) if !name.is_empty() => Part::Query(String::from(name)),
                _ => {
                    let name = inner.strip_suffix('*').unwrap_or(inner);
                    let known = route.is_some_and(|route| route.names().any(|known| known == name));
                    if !known {
                        return Err("has a {placeholder} that RELAY_ROUTE does not define");
                    }
                    if template.query_at.is_some() && route.is_some_and(|route| route.is_rest(name)) {
                        return Err("has a {name*} in its query");
                    }
                    Part::Param(String::from(name))
                }
            };
            template.parts.push(part);
            rest = after;
        }
        Ok(template)
    }

    fn push_text(&mut self, literal: &str) {
        let (path, query) = match text::split_once(literal, b'?') {
            Some((path, query)) if self.query_at.is_none() => (path, Some(query)),
            _ => (literal, None),
        };
        let mut encoded = String::new();
        text::push_percent_encoded(&mut encoded, path.as_bytes(), text::URL_AS_IS);
        if let Some(query) = query {
            encoded.push('?');
            self.parts.push(Part::Text(encoded));
            self.query_at = Some(self.parts.len());
            encoded = String::new();
            text::push_percent_encoded(&mut encoded, query.as_bytes(), text::URL_AS_IS);
        }
        if !encoded.is_empty() {
            self.parts.push(Part::Text(encoded));
        }
    }

    /// The path and query for one request: `params` from the route, `query` the client's.
    pub fn render(&self, params: &Params, query: &[(Vec<u8>, Vec<u8>)]) -> Result<String, RelayError> {
        let mut out = self.base.path_and_query.clone();
        // In a path a value is a segment's, in a query a parameter's: both keep only the
        // unreserved bytes as they are.
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Param(name) => match params.iter().find(|(known, _)| known == name).map(|(_, value)| value) {
                    Some(Value::One(value)) => text::push_percent_encoded(&mut out, value, text::UNRESERVED),
                    Some(Value::Rest(segments)) => {
                        for (i, segment) in segments.iter().enumerate() {
                            if i > 0 {
                                out.push('/');
                            }
                            text::push_percent_encoded(&mut out, segment, text::UNRESERVED);
                        }
                    }
                    None => {}
                },
                Part::Query(name) => {
                    let value = query.iter().find(|(known, _)| known == name.as_bytes()).map(|(_, value)| value);
                    let value = value.ok_or_else(|| RelayError::MissingParameter { name: name.clone() })?;
                    text::push_percent_encoded(&mut out, value, text::UNRESERVED);
                }
            }
        }
        Ok(out)
    }
}

/// Appends `name=value` to the query of `url` (starting one when it has none), both encoded.
pub fn append_query(url: &mut String, name: &[u8], value: &[u8]) {
    url.push(if url.contains('?') { '&' } else { '?' });
    text::push_percent_encoded(url, name, text::UNRESERVED);
    url.push('=');
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
        assert_eq!(render("https://api.example.com/v2/users/{id}?fields=all", "/users/{id}", b"/users/7").unwrap(), "/v2/users/7?fields=all");
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
    }

    #[test]
    fn placeholders_stay_out_of_the_scheme_and_host() {
        let route = Route::parse("/{id}/{rest*}").unwrap();
        let parse = |url| UrlTemplate::parse(url, Some(&route)).map(|_| ());
        let host = Err("has a placeholder in its scheme or host: the client never chooses the host");
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
