//! The relay's decisions, apart from the I/O that carries them out: which headers go upstream,
//! which upstream answers are accepted, how its body is projected within its size limit, and how
//! the answer is written.

use alloc::vec::Vec;

use crate::config::Job;
use crate::error::RelayError;
use crate::field::Field;
use crate::gateway::is_bodiless;
use crate::json::{write_string, Scanner};
use crate::path::Path;

/// The headers of the upstream request, each handed to `emit`: `content-type` (unless
/// configured) and `content-length` (many APIs refuse chunked uploads) for a body of `length`
/// (its decimal digits), then the configured ones (`job.headers`). Handed over one by one so that
/// the caller builds the one list it needs.
pub fn upstream_headers<'a>(job: &'a Job, length: &'a str, mut emit: impl FnMut(&'a str, &'a [u8])) {
    let has_body = length != "0";
    if has_body && !job.headers.iter().any(|(name, _)| name == "content-type") {
        emit("content-type", b"application/json");
    }
    if has_body || !is_bodiless(&job.method) {
        emit("content-length", length.as_bytes());
    }
    for (name, value) in &job.headers {
        emit(name, value);
    }
}

/// Where a stream's bytes go: the reader asks how much the next read may bring, then hands it over.
pub trait Sink {
    /// The most bytes the next read may bring.
    fn room(&mut self) -> Result<u64, RelayError> {
        Ok(CHUNK)
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), RelayError>;
}

/// The most a stream read asks for.
pub const CHUNK: u64 = 64 * 1024;

/// Collects a request body up to `limit` bytes. It grows by what each read may bring, reserved
/// exactly before the read: on the relay's heap the body is then the topmost block, which grows
/// in place, so a body takes its own size in memory (and one chunk), never the copies a doubling
/// vector leaves behind.
pub struct BodyCollector {
    body: Vec<u8>,
    limit: u64,
}

impl BodyCollector {
    pub fn new(limit: u64) -> BodyCollector {
        BodyCollector { body: Vec::new(), limit }
    }

    /// The body, checked to be JSON when it is not empty.
    pub fn finish(self) -> Result<Vec<u8>, RelayError> {
        if !self.body.is_empty() {
            crate::json::validate(&self.body).map_err(RelayError::InvalidJson)?;
        }
        Ok(self.body)
    }
}

impl Sink for BodyCollector {
    /// Room reserved for the next read: a chunk, or what is left of the limit and one byte more
    /// (a byte past the limit is how a body too large shows itself).
    fn room(&mut self) -> Result<u64, RelayError> {
        let len = self.body.len();
        let spare = self.body.capacity() - len;
        if spare == 0 {
            let wanted = CHUNK.min(self.limit.saturating_sub(len as u64) + 1);
            self.body.try_reserve_exact(wanted as usize).map_err(|_| RelayError::BodyOverMemory)?;
        }
        Ok((self.body.capacity() - len) as u64)
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), RelayError> {
        if (self.body.len() + chunk.len()) as u64 > self.limit {
            return Err(RelayError::BodyTooLarge { limit: self.limit });
        }
        // Within the room reserved, so no reallocation (a caller pushing more than `room` still
        // gets a correct, if copied, body).
        self.body.try_reserve(chunk.len()).map_err(|_| RelayError::BodyOverMemory)?;
        self.body.extend_from_slice(chunk);
        Ok(())
    }
}

/// Projects the upstream's body as it streams in, refusing it past `limit` bytes.
pub struct Projection<'p> {
    scanner: Scanner<'p>,
    limit: u64,
}

impl<'p> Projection<'p> {
    pub fn new(paths: &'p [&'p Path], limit: u64) -> Projection<'p> {
        Projection::following(paths, 0, limit)
    }

    /// A projection whose paths in the mask `probes` are followed only for the types they meet.
    pub fn following(paths: &'p [&'p Path], probes: u64, limit: u64) -> Projection<'p> {
        Projection { scanner: Scanner::following(paths, probes), limit }
    }

    /// The scanner, for a reader that takes more from it than its values (a shape's streams).
    pub fn scanner(&mut self) -> &mut Scanner<'p> {
        &mut self.scanner
    }

    /// The captured values, one per path; an empty body is not JSON.
    pub fn finish(self) -> Result<Vec<Option<Vec<u8>>>, RelayError> {
        self.scanner.finish().map_err(RelayError::UpstreamInvalidJson)
    }
}

impl Sink for Projection<'_> {
    fn push(&mut self, chunk: &[u8]) -> Result<(), RelayError> {
        if self.scanner.offset() + chunk.len() as u64 > self.limit {
            return Err(RelayError::UpstreamTooLarge { limit: self.limit });
        }
        self.scanner.feed(chunk).map_err(RelayError::UpstreamInvalidJson)?;
        if self.scanner.out_of_memory() {
            return Err(RelayError::AnswerOverMemory);
        }
        Ok(())
    }
}

/// The paths of `fields`, in order.
pub fn paths_of(fields: &[Field]) -> Vec<&Path> {
    fields.iter().map(|field| &field.path).collect()
}

/// `{"name":value,...}` in field order; a path that matched nothing is `null`.
pub fn write_answer(fields: &[Field], values: &[Option<Vec<u8>>]) -> Result<Vec<u8>, RelayError> {
    let size: usize = values.iter().flatten().map(|v| v.len()).sum::<usize>() + fields.len() * 16;
    let mut out = Vec::new();
    // The names' escapes may need more than this; the values, the bulk, fit.
    out.try_reserve_exact(size + 2).map_err(|_| RelayError::AnswerOverMemory)?;
    out.push(b'{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(&mut out, field.name.as_bytes());
        out.push(b':');
        match values.get(i).and_then(|value| value.as_deref()) {
            Some(value) => out.extend_from_slice(value),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Scheme, Upstream};
    use crate::field::parse_list;
    use crate::json::JsonErrorKind;
    use alloc::vec;

    fn job(method: &str, headers: &[(&str, &str)]) -> Job {
        Job {
            upstream: Upstream { scheme: Scheme::Http, authority: "h".into(), path_and_query: "/".into() },
            method: method.into(),
            headers: headers.iter().map(|(n, v)| (String::from(*n), v.as_bytes().to_vec())).collect(),
            fields: parse_list("a").unwrap(),
            shape: None,
            timeout_ms: 1,
            deadline_ms: 1,
            max_response_bytes: 1,
        }
    }

    fn headers<'a>(job: &'a Job, length: &'a str) -> Vec<(&'a str, &'a [u8])> {
        let mut headers = Vec::new();
        upstream_headers(job, length, |name, value| headers.push((name, value)));
        headers
    }

    #[test]
    fn upstream_requests_carry_their_length() {
        let with_key = job("POST", &[("x-api-key", "k")]);
        assert_eq!(headers(&with_key, "12"), [("content-type", &b"application/json"[..]), ("content-length", b"12"), ("x-api-key", b"k")]);
        assert_eq!(headers(&job("POST", &[]), "0"), [("content-length", &b"0"[..])]);
        assert!(headers(&job("GET", &[]), "0").is_empty());
        let custom = job("PUT", &[("content-type", "application/vnd.api+json")]);
        assert_eq!(headers(&custom, "2"), [("content-length", &b"2"[..]), ("content-type", b"application/vnd.api+json")]);
    }

    #[test]
    fn request_bodies_are_limited_and_validated() {
        let mut body = BodyCollector::new(4);
        body.push(b"[1,").unwrap();
        assert_eq!(body.push(b"23]"), Err(RelayError::BodyTooLarge { limit: 4 }));
        let mut body = BodyCollector::new(4);
        body.push(b"[1,").unwrap();
        assert!(matches!(body.finish(), Err(RelayError::InvalidJson(e)) if e.kind == JsonErrorKind::UnexpectedEnd));
        assert_eq!(BodyCollector::new(4).finish(), Ok(vec![]));
    }

    #[test]
    fn upstream_bodies_are_limited_and_projected() {
        let path = Path::parse("a").unwrap();
        let paths = vec![&path];
        let mut projection = Projection::new(&paths, 8);
        projection.push(b"{\"a\":").unwrap();
        assert_eq!(projection.push(b"1234"), Err(RelayError::UpstreamTooLarge { limit: 8 }));
        let mut projection = Projection::new(&paths, 8);
        projection.push(b"{\"a\":1}").unwrap();
        assert_eq!(projection.finish(), Ok(vec![Some(b"1".to_vec())]));
        let empty = Projection::new(&paths, 8).finish();
        assert!(matches!(empty, Err(RelayError::UpstreamInvalidJson(_))));
    }

    #[test]
    fn answers_follow_field_order_with_null_for_missing() {
        let fields = parse_list("id=/data/id,we\"ird=x,name").unwrap();
        let values = vec![Some(b"123456789012345678901234567890".to_vec()), None, Some(b"\"n\"".to_vec())];
        assert_eq!(write_answer(&fields, &values).unwrap(), br#"{"id":123456789012345678901234567890,"we\"ird":null,"name":"n"}"#.to_vec());
    }
}
