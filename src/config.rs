//! Configuration: the upstream, the fields and the limits, read from environment variables.
//!
//! Environment variables are the one config source that both Spin (`environment` in spin.toml)
//! and `wasmtime serve` (`--env`) give a component today; see the README for why runtime-config
//! interfaces are not used.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Problem, RelayError};
use crate::field::{self, Field};
use crate::json::hex_value;
use crate::route::{self, Route};
use crate::shape::{self, Expr, Plan};
use crate::template::UrlTemplate;
use crate::text::{self, parse_u64};

/// The variables a shape of the HTTP component reads: the client's query and route placeholders.
const VARIABLES: &[&str] = &["query", "params"];

pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_MAX_REQUEST_BYTES: u64 = 1_048_576;
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 8_388_608;
/// The whole upstream exchange (connecting, sending, waiting, reading) may take no longer.
pub const DEFAULT_DEADLINE_MS: u64 = 30_000;

/// Every setting, by its environment variable name. Spin variables use the same names in lower case.
pub const SETTINGS: [&str; 22] = [
    "RELAY_ROUTE",
    "RELAY_UPSTREAMS",
    "RELAY_PARTIAL",
    "RELAY_UPSTREAM_URL",
    "RELAY_FORWARD_QUERY",
    "RELAY_FORWARD_HEADERS",
    "RELAY_ALLOWED_METHODS",
    "RELAY_UPSTREAM_ERRORS",
    "RELAY_RESPONSE_HEADERS",
    "RELAY_CORS_ORIGINS",
    "RELAY_API_KEY_QUERY",
    "RELAY_FIELDS",
    "RELAY_SHAPE",
    "RELAY_REQUEST_SHAPE",
    "RELAY_METHOD",
    "RELAY_TIMEOUT_MS",
    "RELAY_DEADLINE_MS",
    "RELAY_MAX_REQUEST_BYTES",
    "RELAY_MAX_RESPONSE_BYTES",
    "RELAY_UPSTREAM_HEADERS",
    "RELAY_API_KEY",
    "RELAY_API_KEY_HEADER",
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

/// Where the upstream is: the parts of its URL that a `wasi:http` request is built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    pub scheme: Scheme,
    pub authority: String,
    pub path_and_query: String,
}

/// What one relay does, whichever artifact runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Job {
    pub upstream: Upstream,
    pub method: String,
    /// Extra headers sent upstream, names in lower case.
    pub headers: Vec<(String, Vec<u8>)>,
    pub fields: Vec<Field>,
    /// The shape of the answer (`RELAY_SHAPE`, `--shape`), instead of `fields`.
    pub shape: Option<Plan>,
    /// Limit on connecting and on any wait for the upstream's next bytes (or for room to send ours).
    pub timeout_ms: u64,
    /// Limit on the whole exchange, however steadily it moves.
    pub deadline_ms: u64,
    pub max_response_bytes: u64,
}

impl Job {
    /// The job of one exchange with `upstream`: this job's method, headers and limits, without
    /// its fields or shape, which a reader holds. Built field by field: `Job::clone` would link
    /// the clone of a whole plan (950 bytes in the HTTP component, 759 in the command). Out of
    /// line: inlined into the settings' reading it cost 48 bytes more.
    #[inline(never)]
    pub fn exchange_with(&self, upstream: &Upstream) -> Job {
        Job {
            upstream: upstream.clone(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            timeout_ms: self.timeout_ms,
            deadline_ms: self.deadline_ms,
            max_response_bytes: self.max_response_bytes,
            ..Job::default()
        }
    }

    /// The limit a wait ran into: the whole deadline (`whole`) or the pause limit.
    pub fn limit_ms(&self, whole: bool) -> u64 {
        if whole {
            self.deadline_ms
        } else {
            self.timeout_ms
        }
    }
}

/// The HTTP component's configuration: the job (its `upstream` and `method` completed for each
/// request) and what shapes the request and the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub job: Job,
    pub max_request_bytes: u64,
    /// The paths answered (`RELAY_ROUTE`); `None`: any path, no placeholders.
    pub route: Option<Route>,
    /// `RELAY_UPSTREAM_URL`, its placeholders filled for each request.
    pub url: UrlTemplate,
    /// Client query parameters appended upstream (`RELAY_FORWARD_QUERY`: names, or `*`).
    pub forward_query: Names,
    /// Client headers copied upstream when present (`RELAY_FORWARD_HEADERS`), in lower case.
    pub forward_headers: Names,
    /// `RELAY_API_KEY` as this query parameter instead of a header (`RELAY_API_KEY_QUERY`).
    pub api_key_query: Option<(String, Vec<u8>)>,
    /// The methods a client may use (`RELAY_ALLOWED_METHODS`, default GET and POST; HEAD with GET).
    pub allowed_methods: Names,
    /// The one method the upstream gets, whatever the client's (`RELAY_METHOD`).
    pub forced_method: Option<String>,
    /// Relay the upstream's own JSON error body (`RELAY_UPSTREAM_ERRORS=body`).
    pub upstream_error_bodies: bool,
    /// Upstream response headers copied to the client (`RELAY_RESPONSE_HEADERS`; `x-ratelimit-*`).
    pub response_headers: Names,
    /// The origins a browser may call from (`RELAY_CORS_ORIGINS`: `*` or a list); `None`: no CORS.
    pub cors_origins: Option<Names>,
    /// Several upstreams fetched at once (`RELAY_UPSTREAMS`), each a document of the shape's.
    pub legs: Vec<Leg>,
    /// `RELAY_PARTIAL=null`: a failed leg's document is `null` instead of failing the request.
    pub partial_null: bool,
    /// Builds the upstream's body from the client's (`RELAY_REQUEST_SHAPE`).
    pub request_shape: Option<Expr>,
    /// What a shape sees as `$query` and `$params` for this request, as JSON objects of strings.
    pub query_json: Vec<u8>,
    pub params_json: Vec<u8>,
}

/// One of several upstreams (`RELAY_UPSTREAMS`): its name (the shape's `$name`), its URL template
/// (`RELAY_<NAME>_URL`), and its job, completed for each request as the single upstream's is
/// (method `RELAY_<NAME>_METHOD`, headers `RELAY_<NAME>_HEADERS`, each defaulting to the unnamed
/// setting).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leg {
    pub name: String,
    pub url: UrlTemplate,
    pub forced_method: Option<String>,
    /// `RELAY_<NAME>_REQUEST_SHAPE`, else `RELAY_REQUEST_SHAPE`'s.
    pub request_shape: Option<Expr>,
    pub job: Job,
}

/// Whether `name` can name one of several upstreams: a shape's variable (lower case, digits
/// after the first letter, `_`), none of the relay's own (`query`, `params`).
pub fn is_leg_name(name: &str) -> bool {
    let variable =
        !name.is_empty() && name.bytes().enumerate().all(|(i, b)| b == b'_' || b.is_ascii_lowercase() || (i > 0 && b.is_ascii_digit()));
    variable && !VARIABLES.contains(&name)
}

/// Why several upstreams without `RELAY_SHAPE` are no configuration.
pub const NO_SHAPE: &str = "is not set: several upstreams are merged by a shape";

/// The most upstreams one request fetches: each is a pollable in one `poll`.
pub const MAX_LEGS: usize = 8;

/// A list of names, each matched exactly or, when it ends with `*`, as a prefix (`*` alone: all).
/// Kept as its text, the entries trimmed and joined by commas: the component is smaller for it
/// than for a vector of strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names(pub String);

impl Names {
    /// Parses a comma-separated list; `lower` puts every name in lower case (header names).
    pub fn parse(list: &str, lower: bool) -> Names {
        let mut names = String::new();
        for name in text::split(list, b',').map(str::trim_ascii).filter(|name| !name.is_empty()) {
            if !names.is_empty() {
                names.push_str(",");
            }
            names.push_str(name);
        }
        if lower {
            names.make_ascii_lowercase();
        }
        Names(names)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        text::split(&self.0, b',').filter(|name| !name.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, name: &[u8]) -> bool {
        self.iter().any(|known| match text::strip_ascii_suffix(known, b'*') {
            Some(prefix) => name.starts_with(prefix.as_bytes()),
            None => known.as_bytes() == name,
        })
    }
}

impl Config {
    /// Reads the `RELAY_*` variables from `env`, name and value pairs as `wasi:cli/environment`
    /// lists them (the tests, the fuzzer and the manifests' check read configurations this way; the
    /// components call [`Config::read`] with their own lookup).
    pub fn from_env(env: &[(String, String)]) -> Result<Config, RelayError> {
        Config::read(|name| env.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()))
    }

    /// Reads the settings through `lookup`, which is asked for each by its `RELAY_*` name and
    /// lends the text (parsing copies what it keeps).
    pub fn read<'a>(lookup: impl Fn(&'static str) -> Option<&'a str>) -> Result<Config, RelayError> {
        // A problem concerns the setting read last, so the parsers report only the problem: one
        // error type through every step keeps the wasm build small.
        let setting = core::cell::Cell::new("");
        let get = |name: &'static str| {
            setting.set(name);
            lookup(name)
        };
        let mut config = Config::default();
        config.fill(get).map_err(|problem| RelayError::Config { setting: setting.get(), problem: problem.into_string() })?;
        Ok(config)
    }

    /// Sets each field from its setting. Assigning in place, rather than returning a whole
    /// `Config` through `?`, spares the wasm build the copies of a large result.
    fn fill<'a>(&mut self, get: impl Fn(&'static str) -> Option<&'a str>) -> Result<(), Problem> {
        let required = |name: &'static str| match get(name) {
            Some(text) if !text.trim_ascii().is_empty() => Ok(text),
            _ => Err(Problem::Text("is not set")),
        };
        let number = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(text) => positive_number(text).ok_or(Problem::Text("must be a whole number greater than zero")),
        };

        if let Some(text) = get("RELAY_ROUTE") {
            self.route = Some(Route::parse(text)?);
        }
        self.partial_null = match get("RELAY_PARTIAL").map(str::trim_ascii) {
            None | Some("fail") => false,
            Some("null") => true,
            _ => return Err("must be fail or null".into()),
        };
        let legs = get("RELAY_UPSTREAMS").map(|names| Names::parse(names, false));
        let mut leg_names = Vec::new();
        if let Some(names) = &legs {
            for name in names.iter() {
                if !is_leg_name(name) || leg_names.contains(&name) {
                    return Err("must be distinct lower-case names (a-z, 0-9, _), none of query and params".into());
                }
                leg_names.push(name);
            }
            if leg_names.is_empty() || leg_names.len() > MAX_LEGS {
                return Err("must name 1 to 8 upstreams".into());
            }
        }
        let url = if legs.is_some() { get("RELAY_UPSTREAM_URL") } else { Some(required("RELAY_UPSTREAM_URL")?) };
        if let Some(url) = url {
            self.url = UrlTemplate::parse(url, self.route.as_ref())?;
        }
        let job = &mut self.job;
        job.upstream = self.url.base.clone();
        // RELAY_SHAPE, or RELAY_FIELDS, its shorthand: one of them.
        let fields = get("RELAY_FIELDS");
        let mut variables = VARIABLES.to_vec();
        variables.extend(&leg_names);
        match get("RELAY_SHAPE") {
            Some(_) if fields.is_some() => return Err("is set with RELAY_FIELDS, its shorthand: keep one".into()),
            Some(program) => job.shape = Some(Plan::new(&shape::compile(program, &variables, true)?)),
            None if legs.is_some() => return Err(NO_SHAPE.into()),
            None => job.fields = field::parse_list(required("RELAY_FIELDS")?)?,
        }
        if let Some(program) = get("RELAY_REQUEST_SHAPE") {
            self.request_shape = Some(shape::compile(program, VARIABLES, true)?);
        }
        if let Some(text) = get("RELAY_METHOD") {
            self.forced_method = Some(parse_method(text)?);
        }
        self.allowed_methods = Names::parse(get("RELAY_ALLOWED_METHODS").unwrap_or("GET,POST"), false);
        if self.allowed_methods.is_empty()
            || !self.allowed_methods.iter().all(is_token)
            || self.allowed_methods.0.bytes().any(|b| b == b'*')
        {
            return Err("must be a list of HTTP methods".into());
        }
        if let Some(text) = get("RELAY_UPSTREAM_HEADERS") {
            job.headers = parse_header_list(text)?;
        }
        if let Some(text) = get("RELAY_FORWARD_QUERY") {
            self.forward_query = Names::parse(text, false);
        }
        if let Some(text) = get("RELAY_FORWARD_HEADERS") {
            let names = Names::parse(text, true);
            for name in names.iter() {
                check_header_name(name)?;
                if HOP_BY_HOP.contains(&name) {
                    return Err("names a hop-by-hop header, which is the connection's own".into());
                }
                // A pattern would let through what the checks above refuse by name.
                if name.bytes().any(|b| b == b'*') {
                    return Err("lists header names, not patterns".into());
                }
            }
            self.forward_headers = names;
        }
        self.upstream_error_bodies = match get("RELAY_UPSTREAM_ERRORS") {
            None => false,
            Some(text) => match text.trim_ascii() {
                "status" => false,
                "body" => true,
                _ => return Err("must be status or body".into()),
            },
        };
        if let Some(text) = get("RELAY_RESPONSE_HEADERS") {
            self.response_headers = Names::parse(text, true);
        }
        if let Some(text) = get("RELAY_CORS_ORIGINS") {
            let origins = Names::parse(text, false);
            let is_origin = |origin: &str| {
                text::split_once(origin, b':').is_some_and(|(_, rest)| rest.starts_with("//")) && !origin.bytes().any(|b| b == b'*')
            };
            if origins.is_empty() || !origins.iter().all(|origin| origin == "*" || is_origin(origin)) {
                return Err("must be * or a list of scheme://host[:port]".into());
            }
            self.cors_origins = Some(origins);
        }
        // The key's header (or query parameter) is checked as its own setting, then the key as
        // RELAY_API_KEY: no message about either repeats the key.
        let key_query = get("RELAY_API_KEY_QUERY").map(str::trim_ascii);
        if key_query.is_some_and(str::is_empty) {
            return Err("is empty".into());
        }
        let key_header = check_header_name(get("RELAY_API_KEY_HEADER").unwrap_or("authorization"))?;
        if let Some(key) = get("RELAY_API_KEY") {
            let value = key.trim_ascii().as_bytes();
            if value.is_empty() {
                return Err("is empty".into());
            }
            check_header_value(value)?;
            match key_query {
                Some(name) => self.api_key_query = Some((String::from(name), value.to_vec())),
                None => job.headers.push((key_header, value.to_vec())),
            }
        }
        job.timeout_ms = number("RELAY_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?;
        job.deadline_ms = number("RELAY_DEADLINE_MS", DEFAULT_DEADLINE_MS)?;
        job.max_response_bytes = number("RELAY_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES)?;
        self.max_request_bytes = number("RELAY_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES)?;
        for name in leg_names {
            // `RELAY_<NAME>_URL` and the rest: names made once, for the configuration's life.
            let setting = |suffix: &str| -> &'static str {
                let mut setting = String::from("RELAY_");
                setting.push_str(name);
                setting.push_str(suffix);
                setting.make_ascii_uppercase();
                setting.leak()
            };
            // The unnamed job's headers and limits; its method is completed per request, and
            // its shape merges all the legs.
            let url = UrlTemplate::parse(required(setting("_URL"))?, self.route.as_ref())?;
            let job = self.job.exchange_with(&url.base);
            let mut leg = Leg { name: String::from(name), url, job, forced_method: self.forced_method.clone(), ..Leg::default() };
            if let Some(text) = get(setting("_METHOD")) {
                leg.forced_method = Some(parse_method(text)?);
            }
            if let Some(text) = get(setting("_HEADERS")) {
                leg.job.headers = parse_header_list(text)?;
            }
            if let Some(program) = get(setting("_REQUEST_SHAPE")) {
                leg.request_shape = Some(shape::compile(program, VARIABLES, true)?);
            }
            self.legs.push(leg);
        }
        Ok(())
    }
}

/// A whole number greater than zero, as every numeric setting must be.
pub fn positive_number(text: &str) -> Option<u64> {
    parse_u64(text.as_bytes()).filter(|&n| n > 0)
}

impl Upstream {
    /// Parses an `http://` or `https://` URL. A fragment is dropped, as HTTP clients do.
    pub fn parse(url: &str) -> Result<Upstream, &'static str> {
        let (mut upstream, path_and_query) = Upstream::split(url)?;
        // What RFC 3986 does not allow as it is (`é`, `"`, a space) goes out percent-encoded.
        text::push_percent_encoded(&mut upstream.path_and_query, path_and_query.as_bytes(), text::URL_AS_IS);
        Ok(upstream)
    }

    /// The scheme and authority of `url`, checked, with `path_and_query` holding the `/` that
    /// wasi:http wants first (`http://h?q` asks for `/?q`), and the rest of the path and query as
    /// written, for the caller to encode: [`Upstream::parse`], or a URL template.
    pub fn split(url: &str) -> Result<(Upstream, &str), &'static str> {
        let url = url.trim_ascii();
        let url = text::split_once(url, b'#').map_or(url, |(before, _)| before);
        let (scheme, rest) = match text::split_once(url, b':') {
            Some((name, rest)) if name.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            Some((name, rest)) if name.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            _ if text::split_once(url, b'/').map_or(url, |(before, _)| before).bytes().any(|b| b == b'{') => {
                return Err(PLACEHOLDER_IN_HOST)
            }
            _ => return Err("must start with http:// or https://"),
        };
        let rest = text::strip_ascii_prefix(rest, b'/')
            .and_then(|rest| text::strip_ascii_prefix(rest, b'/'))
            .ok_or("must start with http:// or https://")?;
        let (authority, path_and_query) = text::split_before(rest, |b| b == b'/' || b == b'?').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err("has no host");
        }
        if !text::all_in(authority.as_bytes(), text::HOST) {
            // Neither `{` nor `@` is a host's byte: the two problems with a message of their own
            // are told apart here only.
            let has = |byte: u8| authority.bytes().any(|b| b == byte);
            return Err(if has(b'{') {
                PLACEHOLDER_IN_HOST
            } else if has(b'@') {
                "must not carry credentials (user:password@)"
            } else {
                "has an invalid host"
            });
        }
        if let Some(port) = port_of(authority.as_bytes()) {
            if parse_u64(port).is_none_or(|port| port > 65535) {
                return Err("has an invalid port");
            }
        }
        if path_and_query.bytes().any(|b| b < b' ' || b == 0x7f) {
            return Err("has a control character in its path");
        }
        let path = String::from(if path_and_query.starts_with('/') { "" } else { "/" });
        Ok((Upstream { scheme, authority: String::from(authority), path_and_query: path }, path_and_query))
    }
}

/// Why (the client never chooses the host) is the README's to say: 36 bytes.
const PLACEHOLDER_IN_HOST: &str = "has a placeholder in its scheme or host";

/// The port of `host:port` or `[v6]:port`, if one is written: what follows the last `:` that is
/// not inside the brackets of an IPv6 address.
pub fn port_of(authority: &[u8]) -> Option<&[u8]> {
    let mut port_at = None;
    for (at, &b) in authority.iter().enumerate() {
        match b {
            b':' => port_at = Some(at + 1),
            b']' => port_at = None,
            _ => {}
        }
    }
    authority.get(port_at?..)
}

/// An HTTP method is a token (RFC 9110); it is sent as written, so `post` stays `post`.
pub fn parse_method(text: &str) -> Result<String, &'static str> {
    let text = text.trim_ascii();
    if !is_token(text) {
        return Err("must be an HTTP method");
    }
    Ok(text.to_string())
}

/// A token of RFC 9110 (`tchar`s): what header names and methods are.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text::all_in(text.as_bytes(), text::TOKEN)
}

/// Headers the host sets from the request itself; configuring them would contradict it.
const RESERVED_HEADERS: [&str; 6] = ["host", "content-length", "transfer-encoding", "connection", "upgrade", "te"];

/// Headers of one connection (RFC 9110 7.6.1), never forwarded; the reserved ones are refused before.
const HOP_BY_HOP: [&str; 5] = ["keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "trailer"];

/// Whether `name` (in lower case) is the host's or the connection's own: reserved or hop-by-hop.
/// Neither a client's nor an upstream's header of these names is ever passed on.
pub fn is_connection_header(name: &str) -> bool {
    RESERVED_HEADERS.contains(&name) || HOP_BY_HOP.contains(&name)
}

/// Checks a header name and returns it in lower case. A problem never repeats the name: a
/// mistyped entry (`authorization:Bearer sk-...` with a colon for `=`) would otherwise put a
/// secret into a message.
pub fn check_header_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim_ascii();
    if !is_token(name) {
        return Err("has an invalid header name");
    }
    if RESERVED_HEADERS.iter().any(|reserved| reserved.eq_ignore_ascii_case(name)) {
        // The names are listed in the README, not in the message: 67 bytes.
        return Err("names a header the relay sets");
    }
    Ok(name.to_ascii_lowercase())
}

/// CR and LF would let a value start a header of its own; other controls are invalid too.
pub fn check_header_value(value: &[u8]) -> Result<(), &'static str> {
    if !text::all_in(value, text::VISIBLE | text::BLANK | text::HIGH) {
        return Err("has a control character in its value");
    }
    Ok(())
}

/// Checks one header and returns its name in lower case.
pub fn check_header(name: &str, value: &[u8]) -> Result<String, &'static str> {
    check_header_value(value)?;
    check_header_name(name)
}

/// Parses `RELAY_UPSTREAM_HEADERS`: `name=value` pairs separated by commas, with `%XX` escapes
/// in values (the OpenTelemetry `OTEL_EXPORTER_OTLP_HEADERS` convention), so a value can hold
/// any byte: `authorization=Bearer%20abc,x-api-key=k%2C1`. Names are tokens and need no escapes.
/// A problem names the entry by its position, never by its text: the list holds secrets.
pub fn parse_header_list(list: &str) -> Result<Vec<(String, Vec<u8>)>, Problem> {
    let mut headers = Vec::new();
    for (index, entry) in text::split(list, b',').enumerate() {
        if entry.trim_ascii().is_empty() {
            continue;
        }
        let header = text::split_once(entry, b'=').ok_or("is not name=value").and_then(|(name, value)| {
            let value = percent_decode(value.trim_ascii().as_bytes()).ok_or("has a broken %-escape")?;
            Ok((check_header(name, &value)?, value))
        });
        headers.push(header.map_err(|problem| Problem::Entry { index, problem })?);
    }
    Ok(headers)
}

/// `%XX` escapes decoded, `None` when a `%` does not start one. Checked here, then decoded by the
/// route's decoder (which reads every `%XX` alike): one decoding loop in the component, not two.
fn percent_decode(text: &[u8]) -> Option<Vec<u8>> {
    for (at, &b) in text.iter().enumerate() {
        if b == b'%' {
            hex_value(*text.get(at + 1)?)?;
            hex_value(*text.get(at + 2)?)?;
        }
    }
    Some(route::decode(text, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn minimal() -> Vec<(String, String)> {
        env(&[("RELAY_UPSTREAM_URL", "http://127.0.0.1:8080/api?x=1"), ("RELAY_FIELDS", "id=/data/id")])
    }

    fn config_error(pairs: &[(&str, &str)]) -> (&'static str, String) {
        let mut vars = minimal();
        vars.retain(|(k, _)| !pairs.iter().any(|(name, _)| k == name));
        vars.extend(env(pairs).into_iter().filter(|(_, v)| v != "<unset>"));
        match Config::from_env(&vars) {
            Err(RelayError::Config { setting, problem }) => (setting, problem),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_fill_what_is_not_set() {
        let config = Config::from_env(&minimal()).unwrap();
        assert_eq!((config.job.upstream.scheme, config.job.upstream.authority.as_str()), (Scheme::Http, "127.0.0.1:8080"));
        assert_eq!(config.url.render(&vec![], &[]).unwrap(), "/api?x=1");
        assert_eq!((config.forced_method, config.allowed_methods), (None, Names("GET,POST".into())));
        assert_eq!((config.route, config.cors_origins, config.api_key_query), (None, None, None));
        assert!(!config.upstream_error_bodies && config.forward_query.is_empty() && config.forward_headers.is_empty());
        assert_eq!(config.job.timeout_ms, 10_000);
        assert_eq!(config.job.max_response_bytes, 8_388_608);
        assert_eq!(config.max_request_bytes, 1_048_576);
        assert!(config.job.headers.is_empty());
        assert_eq!(config.job.fields.len(), 1);
    }

    #[test]
    fn every_variable_is_read() {
        let mut vars = minimal();
        vars.extend(env(&[
            ("RELAY_METHOD", "PUT"),
            ("RELAY_TIMEOUT_MS", "250"),
            ("RELAY_MAX_REQUEST_BYTES", "10"),
            ("RELAY_MAX_RESPONSE_BYTES", "20"),
            ("RELAY_UPSTREAM_HEADERS", "Authorization=Bearer%20abc, x-api-key=k%2C1"),
        ]));
        let config = Config::from_env(&vars).unwrap();
        assert_eq!(config.forced_method.as_deref(), Some("PUT"));
        assert_eq!((config.job.timeout_ms, config.max_request_bytes, config.job.max_response_bytes), (250, 10, 20));
        assert_eq!(config.job.headers, vec![("authorization".into(), b"Bearer abc".to_vec()), ("x-api-key".into(), b"k,1".to_vec())]);
    }

    #[test]
    fn an_api_key_goes_into_its_header() {
        let mut vars = minimal();
        vars.push(("RELAY_API_KEY".into(), "Bearer s3cret".into()));
        let config = Config::from_env(&vars).unwrap();
        assert_eq!(config.job.headers, vec![("authorization".into(), b"Bearer s3cret".to_vec())]);
        vars.push(("RELAY_API_KEY_HEADER".into(), "X-Api-Key".into()));
        let config = Config::from_env(&vars).unwrap();
        assert_eq!(config.job.headers, vec![("x-api-key".into(), b"Bearer s3cret".to_vec())]);
        assert_eq!(config_error(&[("RELAY_API_KEY", "a\nb")]).0, "RELAY_API_KEY");
        assert_eq!(config_error(&[("RELAY_API_KEY", " ")]), ("RELAY_API_KEY", "is empty".into()));
        assert_eq!(config_error(&[("RELAY_API_KEY", "k"), ("RELAY_API_KEY_HEADER", "x:y")]).0, "RELAY_API_KEY_HEADER");
    }

    #[test]
    fn no_problem_repeats_a_configured_value() {
        let secret = "sk-live-0123456789";
        let cases = [
            ("RELAY_UPSTREAM_HEADERS", format!("x-api-key=abc,{secret}")),
            ("RELAY_UPSTREAM_HEADERS", format!("authorization:Bearer {secret}")),
            ("RELAY_UPSTREAM_HEADERS", format!("authorization:Bearer {secret}=x")),
            ("RELAY_UPSTREAM_HEADERS", format!("a=1,{secret} x=1")),
            ("RELAY_UPSTREAM_HEADERS", format!("x={secret}%zz")),
            ("RELAY_UPSTREAM_HEADERS", format!("x={secret}%0a")),
            ("RELAY_UPSTREAM_HEADERS", format!("host={secret}")),
            ("RELAY_API_KEY_HEADER", format!("{secret}:")),
            ("RELAY_API_KEY", format!("{secret}\r\nx-evil: 1")),
            ("RELAY_UPSTREAM_URL", format!("http://h/a\n?key={secret}")),
            ("RELAY_UPSTREAM_URL", format!("http://{secret}@h/")),
            ("RELAY_UPSTREAM_URL", format!("http://h:{secret}/")),
        ];
        for (setting, value) in cases {
            let mut pairs = vec![(setting, value.as_str())];
            if setting == "RELAY_API_KEY_HEADER" {
                pairs.push(("RELAY_API_KEY", "k"));
            }
            let (named, problem) = config_error(&pairs);
            assert_eq!(named, setting, "{value:?}");
            for part in ["sk-live", "0123456789", "Bearer", "abc"] {
                assert!(!problem.contains(part), "{setting}={value:?} gave {problem:?}");
            }
        }
        assert_eq!(config_error(&[("RELAY_UPSTREAM_HEADERS", "x-api-key=abc,SECRET-TAIL")]).1, "entry 2 is not name=value");
        assert_eq!(config_error(&[("RELAY_UPSTREAM_HEADERS", "a=1,,b c=2")]).1, "entry 3 has an invalid header name");
    }

    #[test]
    fn any_source_can_supply_the_settings() {
        let config = Config::read(|name| match name {
            "RELAY_UPSTREAM_URL" => Some("https://api.example.com"),
            "RELAY_FIELDS" => Some("a"),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.job.upstream.scheme, Scheme::Https);
    }

    #[test]
    fn every_setting_read_is_listed() {
        let asked = core::cell::RefCell::new(Vec::new());
        let _ = Config::read(|name| {
            asked.borrow_mut().push(name);
            // One upstream, through RELAY_SHAPE: each setting read (tests/fanout.rs has the rest).
            if name == "RELAY_FIELDS" || name == "RELAY_UPSTREAMS" {
                return None;
            }
            Some(match name {
                "RELAY_PARTIAL" => "null",
                "RELAY_SHAPE" => "{a: .b, c: [.d[] | .e]}",
                "RELAY_ROUTE" => "/{id}",
                "RELAY_UPSTREAM_URL" => "http://h/{id}",
                "RELAY_FIELDS" => "a",
                "RELAY_METHOD" | "RELAY_API_KEY_HEADER" | "RELAY_API_KEY" | "RELAY_ALLOWED_METHODS" => "X",
                "RELAY_UPSTREAM_HEADERS" => "a=b",
                "RELAY_FORWARD_HEADERS" | "RELAY_RESPONSE_HEADERS" | "RELAY_FORWARD_QUERY" | "RELAY_API_KEY_QUERY" => "x",
                "RELAY_UPSTREAM_ERRORS" => "body",
                "RELAY_CORS_ORIGINS" => "*",
                _ => "1",
            })
        })
        .unwrap();
        let mut asked = asked.into_inner();
        asked.sort_unstable();
        let mut listed = SETTINGS.to_vec();
        listed.sort_unstable();
        assert_eq!(asked, listed);
    }

    #[test]
    fn request_shaping_settings_are_read_and_checked() {
        let mut vars = minimal();
        vars.retain(|(k, _)| k != "RELAY_UPSTREAM_URL");
        vars.extend(env(&[
            ("RELAY_ROUTE", "/users/{id}"),
            ("RELAY_UPSTREAM_URL", "https://api.example.com/v2/users/{id}?q={query.q}"),
            ("RELAY_FORWARD_QUERY", "lang, page"),
            ("RELAY_FORWARD_HEADERS", "Authorization,accept-language"),
            ("RELAY_ALLOWED_METHODS", "GET,DELETE"),
            ("RELAY_UPSTREAM_ERRORS", "body"),
            ("RELAY_RESPONSE_HEADERS", "cache-control,X-RateLimit-*"),
            ("RELAY_CORS_ORIGINS", "https://app.example.com, http://localhost:3000"),
            ("RELAY_API_KEY_QUERY", "appid"),
            ("RELAY_API_KEY", "k1"),
        ]));
        let config = Config::from_env(&vars).unwrap();
        assert_eq!(config.route, Some(Route::parse("/users/{id}").unwrap()));
        assert_eq!(config.forward_query, Names("lang,page".into()));
        assert_eq!(config.forward_headers, Names("authorization,accept-language".into()));
        assert_eq!(config.allowed_methods, Names("GET,DELETE".into()));
        assert!(config.upstream_error_bodies);
        assert!(config.response_headers.matches(b"x-ratelimit-remaining") && !config.response_headers.matches(b"x-other"));
        assert!(config.response_headers.matches(b"cache-control") && !config.response_headers.matches(b"cache-control-x"));
        assert_eq!(config.cors_origins, Some(Names("https://app.example.com,http://localhost:3000".into())));
        assert_eq!(config.api_key_query, Some(("appid".into(), b"k1".to_vec())));
        assert!(config.job.headers.is_empty(), "the key goes in the query only");

        let url = |u: &'static str| ("RELAY_UPSTREAM_URL", u);
        assert_eq!(config_error(&[url("http://{id}.example.com/")]).0, "RELAY_UPSTREAM_URL");
        assert_eq!(config_error(&[url("http://h/{id}")]).1, "has a {placeholder} that RELAY_ROUTE does not define");
        assert_eq!(config_error(&[("RELAY_ROUTE", "users")]), ("RELAY_ROUTE", "must start with /".into()));
        for hop in ["host", "Content-Length", "connection", "keep-alive", "te", "proxy-authorization", "trailer", "x y", "*", "x-*", "con*"]
        {
            assert_eq!(config_error(&[("RELAY_FORWARD_HEADERS", hop)]).0, "RELAY_FORWARD_HEADERS", "{hop}");
        }
        assert_eq!(config_error(&[("RELAY_ALLOWED_METHODS", "GET,PO ST")]).0, "RELAY_ALLOWED_METHODS");
        assert_eq!(config_error(&[("RELAY_ALLOWED_METHODS", " ")]).0, "RELAY_ALLOWED_METHODS");
        assert_eq!(config_error(&[("RELAY_UPSTREAM_ERRORS", "json")]).0, "RELAY_UPSTREAM_ERRORS");
        assert_eq!(config_error(&[("RELAY_CORS_ORIGINS", "https://*.example.com")]).0, "RELAY_CORS_ORIGINS");
        assert_eq!(config_error(&[("RELAY_API_KEY_QUERY", " ")]).0, "RELAY_API_KEY_QUERY");
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(config_error(&[("RELAY_UPSTREAM_URL", "<unset>")]), ("RELAY_UPSTREAM_URL", "is not set".into()));
        assert_eq!(config_error(&[("RELAY_FIELDS", " ")]), ("RELAY_FIELDS", "is not set".into()));
        assert_eq!(config_error(&[("RELAY_UPSTREAM_URL", "ftp://x")]).0, "RELAY_UPSTREAM_URL");
        assert_eq!(config_error(&[("RELAY_FIELDS", "a..b")]).0, "RELAY_FIELDS");
        assert_eq!(config_error(&[("RELAY_METHOD", "PO ST")]).0, "RELAY_METHOD");
        assert_eq!(config_error(&[("RELAY_TIMEOUT_MS", "0")]).0, "RELAY_TIMEOUT_MS");
        assert_eq!(config_error(&[("RELAY_TIMEOUT_MS", "ten")]).0, "RELAY_TIMEOUT_MS");
        assert_eq!(config_error(&[("RELAY_MAX_REQUEST_BYTES", "-1")]).0, "RELAY_MAX_REQUEST_BYTES");
        assert_eq!(config_error(&[("RELAY_MAX_RESPONSE_BYTES", "")]).0, "RELAY_MAX_RESPONSE_BYTES");
        assert_eq!(config_error(&[("RELAY_UPSTREAM_HEADERS", "novalue")]).0, "RELAY_UPSTREAM_HEADERS");
    }

    #[test]
    fn urls_are_split_for_wasi_http() {
        let parse = |url| Upstream::parse(url).map(|u| (u.scheme, u.authority, u.path_and_query));
        assert_eq!(parse("HTTPS://api.example.com"), Ok((Scheme::Https, "api.example.com".into(), "/".into())));
        assert_eq!(parse("http://h:1/a/b?q=1#frag"), Ok((Scheme::Http, "h:1".into(), "/a/b?q=1".into())));
        assert_eq!(parse("http://h?q"), Ok((Scheme::Http, "h".into(), "/?q".into())));
        assert_eq!(parse("http://[::1]:8080/x"), Ok((Scheme::Http, "[::1]:8080".into(), "/x".into())));
        assert!(parse("http://").is_err());
        assert!(parse("http://user:pw@h/").is_err());
        assert!(parse("http://h:99999/").is_err());
        assert!(parse("http://h:port/").is_err());
        assert!(parse("http://[::1]/").is_ok() && parse("http://[::1]:65535/").is_ok());
        assert!(parse("http://[::1]:65536/").is_err() && parse("http://h:/").is_err());
        assert_eq!(parse("http://h/a b/\u{e9}/a\"b?q=\u{e9}").unwrap().2, "/a%20b/%C3%A9/a%22b?q=%C3%A9");
        assert!(parse("http://h/a\tb").is_err() && parse("http://h/a\nb").is_err());
        assert!(parse("http://h\r\nx/").is_err());
        assert!(parse("//h/").is_err());
    }

    #[test]
    fn header_values_decode_as_a_strict_decoder_does() {
        // The decoder this one replaced: every `%` starts an escape, or the value is refused.
        fn strict(text: &[u8]) -> Option<Vec<u8>> {
            let mut out = Vec::new();
            let mut i = 0;
            while let Some(&b) = text.get(i) {
                if b == b'%' {
                    out.push(hex_value(*text.get(i + 1)?)? << 4 | hex_value(*text.get(i + 2)?)?);
                    i += 3;
                } else {
                    out.push(b);
                    i += 1;
                }
            }
            Some(out)
        }
        let alphabet = b"%4aZ+ ";
        let mut texts = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .filter(|t| t.len() == texts.last().unwrap().len())
                .flat_map(|t| alphabet.iter().map(move |&b| [&t[..], &[b]].concat()))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            assert_eq!(percent_decode(text), strict(text), "{:?}", core::str::from_utf8(text));
        }
    }

    #[test]
    fn headers_cannot_smuggle_lines_or_override_framing() {
        assert_eq!(parse_header_list("x=a%0d%0aevil: 1").unwrap_err(), "entry 1 has a control character in its value");
        assert_eq!(parse_header_list("x=a%0").unwrap_err(), "entry 1 has a broken %-escape");
        assert!(parse_header_list("bad name=1").is_err());
        assert!(parse_header_list("Host=evil.example").unwrap_err().into_string().starts_with("entry 1 names a header the relay sets"));
        assert!(parse_header_list("content-length=5").is_err());
        assert_eq!(parse_header_list("a=1,,b=x%3Dy").unwrap(), vec![("a".into(), b"1".to_vec()), ("b".into(), b"x=y".to_vec())]);
    }
}
