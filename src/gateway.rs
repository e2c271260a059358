//! What a gateway decides about a client's request and the upstream's answer, apart from the I/O:
//! whether the request is answered here (404, 405, a CORS preflight) or relayed, and then with
//! which method, URL, headers and body; what becomes of each upstream status; which redirects are
//! followed; which headers go back, CORS's included.

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{is_connection_header, port_of, Config, Job, Scheme, Upstream};
use crate::error::RelayError;
use crate::json::write_escaped;
use crate::route::{query_params, Params, Value as RouteValue};
use crate::shape::{shape_request, Expr};
use crate::template::append_query;
use crate::template::UrlTemplate;
use crate::text;

/// Header names (in lower case) and values, borrowed: from the host's lists, static text, or text
/// built for the answer and leaked (`String::leak`), which costs nothing in the component, where
/// nothing outlives the request (its heap starts over with the next one). Owned names and values
/// cost the component their copies and allocations.
pub type Headers<'h> = Vec<(&'h str, &'h [u8])>;

/// A header of the client's request, as the host lists it: generic, so that the component plans
/// over the host's own list instead of a copy of it (186 bytes fewer), and the tests over pairs.
pub trait Entry<'h> {
    fn name(&self) -> &'h str;
    fn value(&self) -> &'h [u8];
}

impl<'h> Entry<'h> for (&'h str, &'h [u8]) {
    fn name(&self) -> &'h str {
        self.0
    }

    fn value(&self) -> &'h [u8] {
        self.1
    }
}

/// The client's request as the host hands it over: header names in lower case.
pub struct Request<'a, H> {
    pub method: &'a str,
    pub target: &'a [u8],
    pub headers: &'a [H],
}

impl<'h, H: Entry<'h>> Request<'_, H> {
    pub fn header(&self, name: &str) -> Option<&'h [u8]> {
        self.headers.iter().find(|entry| entry.name() == name).map(Entry::value)
    }
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// A CORS preflight: the relay answers 204 with these headers (and, for an allowed origin,
    /// the CORS headers every answer gets); the upstream never sees it.
    Preflight(Headers<'static>),
    /// Relay it: `config.job` now holds this request's method, path and headers; `body` says
    /// whether the client's body goes along.
    Relay { body: bool },
}

/// Methods whose requests carry no body to forward.
pub fn is_bodiless(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

impl Config {
    fn allows(&self, method: &str) -> bool {
        let listed = |method: &str| self.allowed_methods.iter().any(|allowed| allowed == method);
        listed(method) || (method == "HEAD" && listed("GET"))
    }

    /// The methods a client may use, for `allow` and `access-control-allow-methods`.
    pub fn allow_header(&self) -> &'static [u8] {
        let listed = |method: &str| self.allowed_methods.iter().any(|allowed| allowed == method);
        let mut methods = String::new();
        for method in self.allowed_methods.iter() {
            append(&mut methods, method);
        }
        // HEAD is allowed with GET, OPTIONS with CORS (for its preflights).
        if listed("GET") && !listed("HEAD") {
            append(&mut methods, "HEAD");
        }
        if self.cors_origins.is_some() && !listed("OPTIONS") {
            append(&mut methods, "OPTIONS");
        }
        methods.leak().as_bytes()
    }

    /// Decides what to do with `request`, completing `self.job` for the upstream when it is to be
    /// relayed. Outside the route: 404; a method not allowed: 405 (a CORS preflight is answered
    /// whatever the methods, since it asks about another one).
    pub fn plan<'h>(&mut self, request: &Request<impl Entry<'h>>) -> Result<Plan, RelayError> {
        let params = match &self.route {
            Some(route) => route.matches(request.target).ok_or(RelayError::NotFound)?,
            None => Vec::new(),
        };
        if request.method == "OPTIONS" && request.header("access-control-request-method").is_some() {
            if self.cors_headers(request.header("origin"), &[]).is_some() {
                let mut allowed = String::from("content-type");
                for name in self.forward_headers.iter() {
                    append(&mut allowed, name);
                }
                return Ok(Plan::Preflight(alloc::vec![
                    ("access-control-allow-methods", self.allow_header()),
                    ("access-control-allow-headers", allowed.leak().as_bytes()),
                    ("access-control-max-age", b"600"),
                ]));
            }
            if self.cors_origins.is_some() {
                return Ok(Plan::Preflight(Vec::new()));
            }
        }
        if !self.allows(request.method) {
            return Err(RelayError::MethodNotAllowed);
        }
        let query = query_params(request.target);
        if self.job.shape.is_some() || self.request_shape.is_some() {
            self.query_json = json_object(query.iter().map(|(name, value)| (name.as_slice(), value.clone())));
            self.params_json = json_object(params.iter().map(|(name, value)| {
                let text = match value {
                    RouteValue::One(segment) => segment.clone(),
                    RouteValue::Rest(segments) => segments.join(&b'/'),
                };
                (name.as_bytes(), text)
            }));
        }
        // Taken out to be completed by the rest of the configuration, and put back.
        let mut job = core::mem::take(&mut self.job);
        let mut legs = core::mem::take(&mut self.legs);
        let completed = self.complete(&mut job, &self.url, self.forced_method.as_deref(), request, &params, &query).and_then(|()| {
            legs.iter_mut()
                .try_for_each(|leg| self.complete(&mut leg.job, &leg.url, leg.forced_method.as_deref(), request, &params, &query))
        });
        let body = !is_bodiless(request.method) && (self.request_shape.is_some() || !is_bodiless(&job.method));
        (self.job, self.legs) = (job, legs);
        completed?;
        // A request shape reads the client's body even for an upstream that gets none of it.
        Ok(Plan::Relay { body })
    }

    /// What a shape of this request reads as `$query` and `$params`.
    pub fn variables(&self) -> [(&'static str, &[u8]); 2] {
        variables(&self.query_json, &self.params_json)
    }

    /// The body of an upstream request with `method` built from the client's `body`: none for a
    /// method without one, `shape`'s output when there is a request shape (`RELAY_REQUEST_SHAPE`,
    /// or an upstream's own), else `None`: the client's as it is.
    pub fn upstream_body(&self, shape: Option<&Expr>, method: &str, body: &[u8]) -> Result<Option<Vec<u8>>, RelayError> {
        match shape {
            _ if is_bodiless(method) => Ok(Some(Vec::new())),
            Some(shape) => shape_request(shape, body, &self.variables()).map(Some),
            None => Ok(None),
        }
    }

    /// Completes `job` for `request`: `url` with its placeholders filled, the forwarded query
    /// parameters and the key parameter appended, the method (`forced`, or the client's), the
    /// forwarded headers.
    fn complete<'h>(
        &self,
        job: &mut Job,
        url: &UrlTemplate,
        forced: Option<&str>,
        request: &Request<impl Entry<'h>>,
        params: &Params,
        query: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), RelayError> {
        let mut path = url.render(params, query)?;
        // A forwarded parameter never repeats one the operator set (the template's, the key's):
        // an upstream that takes the last value, or the first, must get the operator's.
        let set = query_params(path.as_bytes());
        let key_name = self.api_key_query.as_ref().map(|(name, _)| name.as_bytes());
        for (name, value) in query {
            let operators = set.iter().any(|(known, _)| known == name) || key_name == Some(name.as_slice());
            if self.forward_query.matches(name) && !operators {
                append_query(&mut path, name, value);
            }
        }
        if let Some((name, key)) = &self.api_key_query {
            append_query(&mut path, name.as_bytes(), key);
        }
        job.upstream.path_and_query = path;
        // HEAD is answered like GET, without the body (the host drops it).
        let client_method = if request.method == "HEAD" { "GET" } else { request.method };
        job.method = String::from(forced.unwrap_or(client_method));
        for entry in request.headers {
            let name = entry.name();
            // A configured header wins over the client's of the same name.
            if self.forward_headers.matches(name.as_bytes()) && !job.headers.iter().any(|(known, _)| known == name) {
                job.headers.push((String::from(name), entry.value().to_vec()));
            }
        }
        Ok(())
    }

    /// The CORS headers of an answer to a request from `origin`, when that origin is allowed:
    /// `access-control-allow-origin` (`*`, or the origin itself), `vary: origin`, and the names of
    /// the `answer`'s headers the page may read: the upstream's relayed ones, not the relay's own
    /// (`allow`, `access-control-*`). `None` for no CORS configured, no origin, or another.
    pub fn cors_headers<'h>(&self, origin: Option<&'h [u8]>, answer: &[(&str, &[u8])]) -> Option<Headers<'h>> {
        let (origins, origin) = (self.cors_origins.as_ref()?, origin?);
        if !origins.matches(origin) {
            return None;
        }
        let any = origins.iter().any(|known| known == "*");
        let mut headers: Headers = alloc::vec![("access-control-allow-origin", if any { b"*" } else { origin }), ("vary", b"origin")];
        // Joined as they are found, not collected first: the component is smaller for it.
        let mut names = String::new();
        for (name, _) in answer {
            if *name != "allow" && !name.starts_with("access-control-") {
                append(&mut names, name);
            }
        }
        if !names.is_empty() {
            headers.push(("access-control-expose-headers", names.leak().as_bytes()));
        }
        Some(headers)
    }
}

/// Appends `item` to `list`, after `, ` unless it is the first. One item a call, in the callers'
/// own loops: a join generic over its iterator, with the filter chains fed to it, cost 171 bytes
/// more.
fn append(list: &mut String, item: &str) {
    if !list.is_empty() {
        list.push_str(", ");
    }
    list.push_str(item);
}

/// Whether an upstream response header may be copied to the client (`RELAY_RESPONSE_HEADERS`):
/// never the answer's framing and encoding, which describe the upstream's body and not the
/// relay's, nor the connection's own headers, nor CORS's, which the relay writes itself.
pub fn is_relayable(name: &str) -> bool {
    !is_connection_header(name)
        && !matches!(name, "content-type" | "content-encoding")
        && !name.starts_with("proxy-")
        && !name.starts_with("access-control-")
}

/// What becomes of an upstream answer, by its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// 2xx but 204: its body is shaped, and the client gets the same status.
    Shape,
    /// 204 and 304: the same status, no body.
    Empty,
    /// 301, 302, 303, 307, 308: followed when it stays on the origin.
    Redirect,
    /// Anything else: an `upstream_status` error (4xx keeps its status, the rest is 502).
    Refuse,
}

pub fn disposition(status: u16) -> Disposition {
    match status {
        204 | 304 => Disposition::Empty,
        200..=299 => Disposition::Shape,
        301 | 302 | 303 | 307 | 308 => Disposition::Redirect,
        _ => Disposition::Refuse,
    }
}

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 3;

/// The redirect `job`'s exchange follows after `hops` of them, for an answer of `status` with
/// this `location`: its target, and the method it changes to (then without the body; `None`:
/// the same method and body). `None` for one not to follow (elsewhere, or past the limit).
pub fn redirect(job: &Job, status: u16, location: Option<&[u8]>, hops: usize) -> Option<(Upstream, Option<&'static str>)> {
    let target = location.and_then(|location| redirect_target(&job.upstream, location)).filter(|_| hops < MAX_REDIRECTS)?;
    Some((target, redirected_method(status, &job.method)))
}

/// Where a redirect from `current` to `location` goes, when it may be followed: to the same origin
/// (scheme and authority), or from `http` to `https` on the same host. `location` is an absolute
/// URL (`https://h/x`) or an absolute path (`/x`); a relative one (`x`, `../x`, `//h/x`) is not
/// followed (few APIs send one, and resolving it would cost the component more than it earns).
pub fn redirect_target(current: &Upstream, location: &[u8]) -> Option<Upstream> {
    let location = text::utf8(location)?.trim_ascii();
    if location.starts_with('/') && !location.starts_with("//") {
        let mut target = Upstream { scheme: current.scheme, authority: current.authority.clone(), path_and_query: String::new() };
        text::push_percent_encoded(&mut target.path_and_query, location.as_bytes(), text::URL_AS_IS);
        return Some(target);
    }
    let target = Upstream::parse(location).ok()?;
    let same_origin = target.scheme == current.scheme && target.authority.eq_ignore_ascii_case(&current.authority);
    let upgraded = current.scheme == Scheme::Http
        && target.scheme == Scheme::Https
        && host_of(&target.authority).eq_ignore_ascii_case(host_of(&current.authority));
    (same_origin || upgraded).then_some(target)
}

/// The host of an authority, without its port (an IPv6 address keeps its brackets and colons):
/// the port found as the configuration's check finds it, one loop for both.
fn host_of(authority: &str) -> &[u8] {
    let authority = authority.as_bytes();
    let port_len = port_of(authority).map_or(0, |port| port.len() + 1);
    authority.get(..authority.len() - port_len).unwrap_or(authority)
}

/// The method and whether the body goes along after a redirect of `status`: 303 turns any method
/// but HEAD into a bodiless GET, and 301 and 302 turn a POST into one (as browsers and the Fetch
/// standard do); 307 and 308 keep both.
pub fn redirected_method(status: u16, method: &str) -> Option<&'static str> {
    match status {
        303 if method != "HEAD" => Some("GET"),
        301 | 302 if method == "POST" => Some("GET"),
        _ => None,
    }
}

/// A shape's `$query` and `$params`, from their JSON texts (for a caller that holds the rest of
/// the configuration mutably: [`Config::variables`] otherwise).
pub fn variables<'a>(query: &'a [u8], params: &'a [u8]) -> [(&'static str, &'a [u8]); 2] {
    [("query", query), ("params", params)]
}

/// `{"name":"value",...}`, what a shape sees as `$query` or `$params`; a repeated name is read
/// as its last value. In a text that is no UTF-8 (a percent escape of a lone byte), every byte
/// past ASCII becomes U+FFFD: a JSON string must be UTF-8, and core's `utf8_chunks` costs 600 bytes.
fn json_object<'a>(entries: impl Iterator<Item = (&'a [u8], Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::from(&b"{"[..]);
    for (name, value) in entries {
        if out.len() > 1 {
            out.push(b',');
        }
        for (text, after) in [(name, &b"\":"[..]), (&value, b"\"")] {
            out.push(b'"');
            if text::utf8(text).is_some() {
                write_escaped(&mut out, text);
            } else {
                for &b in text.iter() {
                    match b {
                        0x80.. => out.extend_from_slice(b"\\ufffd"),
                        _ => write_escaped(&mut out, &[b]),
                    }
                }
            }
            out.extend_from_slice(after);
        }
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut env: Vec<(String, String)> =
            vec![("RELAY_UPSTREAM_URL".into(), "http://up.example/api".into()), ("RELAY_FIELDS".into(), "a".into())];
        env.retain(|(name, _)| !pairs.iter().any(|(set, _)| set == name));
        env.extend(pairs.iter().map(|(k, v)| (String::from(*k), String::from(*v))));
        Config::from_env(&env).unwrap()
    }

    fn plan(config: &mut Config, method: &str, target: &str, headers: &[(&str, &str)]) -> Result<Plan, RelayError> {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        config.plan(&Request { method, target: target.as_bytes(), headers: &headers })
    }

    #[test]
    fn the_clients_method_goes_upstream_when_allowed() {
        let mut relay = config(&[]);
        assert_eq!(plan(&mut relay, "POST", "/x", &[]), Ok(Plan::Relay { body: true }));
        assert_eq!((relay.job.method.as_str(), relay.job.upstream.path_and_query.as_str()), ("POST", "/api"));
        assert_eq!(plan(&mut relay, "GET", "/x", &[]), Ok(Plan::Relay { body: false }));
        assert_eq!(relay.job.method, "GET");
        assert_eq!(plan(&mut relay, "HEAD", "/x", &[]), Ok(Plan::Relay { body: false }));
        assert_eq!(relay.job.method, "GET", "HEAD is answered like GET");
        for refused in ["DELETE", "PUT", "OPTIONS", "get"] {
            assert_eq!(plan(&mut relay, refused, "/x", &[]), Err(RelayError::MethodNotAllowed), "{refused}");
        }
        assert_eq!(relay.allow_header(), b"GET, POST, HEAD");
        assert_eq!(config(&[("RELAY_ALLOWED_METHODS", "GET,HEAD,POST")]).allow_header(), b"GET, HEAD, POST");
        let mut forced = config(&[("RELAY_METHOD", "PUT"), ("RELAY_ALLOWED_METHODS", "GET,DELETE")]);
        assert_eq!(plan(&mut forced, "DELETE", "/x", &[]), Ok(Plan::Relay { body: true }));
        assert_eq!(forced.job.method, "PUT");
        assert_eq!(plan(&mut forced, "GET", "/x", &[]), Ok(Plan::Relay { body: false }), "a GET's body is not forwarded");
        assert_eq!(plan(&mut forced, "POST", "/x", &[]), Err(RelayError::MethodNotAllowed));
    }

    #[test]
    fn routes_and_templates_build_the_upstream_path() {
        let mut relay = config(&[
            ("RELAY_ROUTE", "/users/{id}"),
            ("RELAY_UPSTREAM_URL", "https://api.example.com/v2/users/{id}?fields=all"),
            ("RELAY_FORWARD_QUERY", "lang"),
            ("RELAY_API_KEY_QUERY", "api_key"),
            ("RELAY_API_KEY", "k&1"),
        ]);
        assert_eq!(plan(&mut relay, "GET", "/users/7?lang=nb&x=1&lang=en", &[]), Ok(Plan::Relay { body: false }));
        assert_eq!(relay.job.upstream.path_and_query, "/v2/users/7?fields=all&lang=nb&lang=en&api_key=k%261");
        assert_eq!(plan(&mut relay, "GET", "/users", &[]), Err(RelayError::NotFound));
        assert_eq!(plan(&mut relay, "GET", "/users/%2e%2e", &[]), Err(RelayError::NotFound));
        let mut all = config(&[("RELAY_FORWARD_QUERY", "*"), ("RELAY_UPSTREAM_URL", "http://h/f?q={query.city}")]);
        assert_eq!(plan(&mut all, "GET", "/?city=Oslo&units=metric", &[]), Ok(Plan::Relay { body: false }));
        assert_eq!(all.job.upstream.path_and_query, "/f?q=Oslo&city=Oslo&units=metric");
        // The operator's parameters are never repeated by the client's.
        let mut fixed = config(&[
            ("RELAY_FORWARD_QUERY", "*"),
            ("RELAY_UPSTREAM_URL", "http://h/f?scope=public"),
            ("RELAY_API_KEY_QUERY", "api_key"),
            ("RELAY_API_KEY", "SECRET"),
        ]);
        assert_eq!(plan(&mut fixed, "GET", "/?api_key=x&scope=admin&page=2", &[]), Ok(Plan::Relay { body: false }));
        assert_eq!(fixed.job.upstream.path_and_query, "/f?scope=public&page=2&api_key=SECRET");
        assert_eq!(plan(&mut all, "GET", "/?units=metric", &[]), Err(RelayError::MissingParameter { name: "city".into() }));
    }

    #[test]
    fn only_listed_client_headers_are_forwarded_and_configured_ones_win() {
        let mut relay =
            config(&[("RELAY_FORWARD_HEADERS", "authorization,if-none-match"), ("RELAY_UPSTREAM_HEADERS", "if-none-match=mine")]);
        let headers = [("authorization", "Bearer c"), ("cookie", "s=1"), ("if-none-match", "\"v1\""), ("accept-language", "nb")];
        assert_eq!(plan(&mut relay, "GET", "/", &headers), Ok(Plan::Relay { body: false }));
        assert_eq!(relay.job.headers, vec![("if-none-match".into(), b"mine".to_vec()), ("authorization".into(), b"Bearer c".to_vec())]);
    }

    #[test]
    fn cors_preflights_are_answered_here() {
        let mut relay = config(&[("RELAY_CORS_ORIGINS", "https://app.example"), ("RELAY_FORWARD_HEADERS", "authorization")]);
        let preflight = [("origin", "https://app.example"), ("access-control-request-method", "POST")];
        let Ok(Plan::Preflight(headers)) = plan(&mut relay, "OPTIONS", "/", &preflight) else { panic!("not a preflight") };
        let text: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, core::str::from_utf8(v).unwrap())).collect();
        assert_eq!(
            text,
            [
                ("access-control-allow-methods", "GET, POST, HEAD, OPTIONS"),
                ("access-control-allow-headers", "content-type, authorization"),
                ("access-control-max-age", "600"),
            ]
        );
        let other = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
        assert_eq!(plan(&mut relay, "OPTIONS", "/", &other), Ok(Plan::Preflight(vec![])));
        assert_eq!(plan(&mut relay, "OPTIONS", "/", &[]), Err(RelayError::MethodNotAllowed), "not a preflight");
        assert_eq!(relay.cors_headers(Some(b"https://evil.example"), &[]), None);
        assert_eq!(relay.cors_headers(None, &[]), None);
        let answer = [("etag", &b"\"v1\""[..]), ("allow", b"GET"), ("x-ratelimit-remaining", b"9"), ("access-control-max-age", b"1")];
        let exposed = relay.cors_headers(Some(b"https://app.example"), &answer).unwrap();
        assert_eq!(exposed[2], ("access-control-expose-headers", &b"etag, x-ratelimit-remaining"[..]));
        let any = config(&[("RELAY_CORS_ORIGINS", "*")]);
        assert_eq!(any.cors_headers(Some(b"http://x"), &[]).unwrap()[0].1, b"*");
        assert_eq!(config(&[]).cors_headers(Some(b"http://x"), &[]), None);
    }

    #[test]
    fn framing_and_cors_headers_are_never_relayed() {
        for never in [
            "content-length",
            "content-type",
            "content-encoding",
            "transfer-encoding",
            "connection",
            "proxy-authenticate",
            "access-control-allow-origin",
        ] {
            assert!(!is_relayable(never), "{never}");
        }
        for relayed in ["etag", "cache-control", "x-ratelimit-remaining", "retry-after", "vary", "last-modified"] {
            assert!(is_relayable(relayed), "{relayed}");
        }
    }

    #[test]
    fn statuses_are_sorted() {
        let cases = [(200, Disposition::Shape), (201, Disposition::Shape), (204, Disposition::Empty), (304, Disposition::Empty)];
        for (status, expected) in cases {
            assert_eq!(disposition(status), expected);
        }
        for status in [301, 302, 303, 307, 308] {
            assert_eq!(disposition(status), Disposition::Redirect);
        }
        for status in [100, 300, 305, 400, 404, 429, 500, 503] {
            assert_eq!(disposition(status), Disposition::Refuse);
        }
    }

    #[test]
    fn redirects_stay_on_the_origin() {
        let current = Upstream::parse("http://api.example:8080/v1/users/7?x=1").unwrap();
        let go = |location: &str| redirect_target(&current, location.as_bytes()).map(|u| (u.scheme, u.authority, u.path_and_query));
        let here = |path: &str| Some((Scheme::Http, String::from("api.example:8080"), String::from(path)));
        assert_eq!(go("/v2/users/7"), here("/v2/users/7"));
        assert_eq!(go(" /v2/caf\u{e9}?y=2 "), here("/v2/caf%C3%A9?y=2"));
        assert_eq!(go("http://api.example:8080/a/b"), here("/a/b"));
        assert_eq!(go("http://API.example:8080/"), Some((Scheme::Http, String::from("API.example:8080"), String::from("/"))));
        assert_eq!(go("https://api.example/secure"), Some((Scheme::Https, String::from("api.example"), String::from("/secure"))));
        for elsewhere in [
            "http://evil.example/",
            "http://api.example:9090/",
            "//evil.example/x",
            "https://evil.example/",
            "ftp://api.example/",
            "8",
            "../x",
        ] {
            assert_eq!(go(elsewhere), None, "{elsewhere}");
        }
        let secure = Upstream::parse("https://h/a").unwrap();
        assert_eq!(redirect_target(&secure, b"http://h/a"), None, "never from https down to http");
        let v6 = Upstream::parse("http://[::1]:8080/").unwrap();
        assert_eq!(redirect_target(&v6, b"https://[::1]/x").map(|u| u.authority), Some(String::from("[::1]")));
    }

    #[test]
    fn redirects_change_the_method_as_browsers_do() {
        assert_eq!(redirected_method(303, "POST"), Some("GET"));
        assert_eq!(redirected_method(303, "DELETE"), Some("GET"));
        assert_eq!(redirected_method(303, "HEAD"), None);
        assert_eq!(redirected_method(302, "POST"), Some("GET"));
        assert_eq!(redirected_method(301, "PUT"), None);
        assert_eq!(redirected_method(307, "POST"), None);
        assert_eq!(redirected_method(308, "POST"), None);
    }
}
