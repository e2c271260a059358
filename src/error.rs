//! The error model: every way a relay can fail, with its HTTP status, its stable code and a
//! message, rendered as `{"error":{"code":"...","message":"..."}}`.
//!
//! Messages are assembled from static text and numbers with the small writers below rather than
//! `core::fmt`, which would cost several kilobytes in a component whose budget is 32 KiB.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{write_escaped, write_string, JsonError};
use crate::text::push_u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayError {
    /// The client's request body is not JSON.
    InvalidJson(JsonError),
    /// The client's request body is larger than `limit` bytes.
    BodyTooLarge { limit: u64 },
    /// The client's request body does not fit in the memory the host gives the relay.
    BodyOverMemory,
    /// The client's body did not arrive within `timeout_ms` (a pause, or the whole deadline).
    RequestTimeout { timeout_ms: u64 },
    /// The upstream URL needs the query parameter `name`, which the request does not have.
    MissingParameter { name: String },
    /// The query parameter `name` stands in the upstream URL's path, and its value is no segment
    /// (empty, `.`, `..`, or climbing once decoded).
    InvalidParameter { name: String },
    /// The request's path is outside `RELAY_ROUTE`.
    NotFound,
    /// The request's method is not among those allowed (`allow` lists them).
    MethodNotAllowed,
    /// The configuration is missing or wrong: `setting` names the variable (or option) at fault.
    Config { setting: &'static str, problem: String },
    /// The upstream could not be reached or the exchange broke off; `detail` says how.
    UpstreamUnreachable { detail: &'static str },
    /// The upstream answered with a status other than 2xx.
    UpstreamStatus { status: u16 },
    /// The upstream's answer is not JSON.
    UpstreamInvalidJson(JsonError),
    /// The upstream's answer is larger than `limit` bytes.
    UpstreamTooLarge { limit: u64 },
    /// The upstream's answer is compressed (`content-encoding`), which the relay did not ask for.
    UpstreamEncoded,
    /// The upstream did not connect, answer or send its next bytes within `timeout_ms`.
    UpstreamTimeout { timeout_ms: u64 },
    /// The values the answer holds do not fit in the memory the host gives the relay.
    AnswerOverMemory,
    /// A step of `RELAY_SHAPE` met a value it cannot apply to (jq's run-time errors): the
    /// message, `` `.a` cannot be applied to a number ``, names the step and the type met.
    UpstreamShape { problem: String },
    /// `RELAY_REQUEST_SHAPE` met a value in the client's body it cannot apply to.
    RequestShape { problem: String },
    /// One of several upstreams (`RELAY_UPSTREAMS`) failed: its name and its error, whose code
    /// and status the answer takes.
    InUpstream { name: String, error: Box<RelayError> },
}

/// A setting's problem as the parsers meet it: mostly static text, copied into the
/// [`RelayError::Config`] once, in [`Config::read`](crate::config::Config::read), rather than at
/// each of the places a problem can arise (817 bytes fewer for `Config::fill`'s fifteen); built
/// text for the problems that quote a field spec or count a header list's entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Text(&'static str),
    Built(String),
    /// `entry N problem` of a list that holds secrets, N counted from 1: the entry is named by
    /// its position alone.
    Entry {
        index: usize,
        problem: &'static str,
    },
}

impl Problem {
    pub fn into_string(self) -> String {
        match self {
            Problem::Text(text) => String::from(text),
            Problem::Built(text) => text,
            Problem::Entry { index, problem } => {
                let mut text = String::from("entry ");
                push_u64(&mut text, index as u64 + 1);
                text.push_str(" ");
                text.push_str(problem);
                text
            }
        }
    }
}

impl From<&'static str> for Problem {
    fn from(text: &'static str) -> Problem {
        Problem::Text(text)
    }
}

impl From<String> for Problem {
    fn from(text: String) -> Problem {
        Problem::Built(text)
    }
}

impl PartialEq<&str> for Problem {
    fn eq(&self, other: &&str) -> bool {
        self.clone().into_string() == *other
    }
}

impl RelayError {
    #[cold]
    #[inline(never)]
    pub fn config(setting: &'static str, problem: &str) -> RelayError {
        RelayError::Config { setting, problem: String::from(problem) }
    }

    pub fn code(&self) -> &'static str {
        match self {
            RelayError::InUpstream { error, .. } => error.code(),
            RelayError::InvalidJson(_) => "invalid_json",
            RelayError::BodyTooLarge { .. } | RelayError::BodyOverMemory => "body_too_large",
            RelayError::RequestTimeout { .. } => "request_timeout",
            RelayError::MissingParameter { .. } => "missing_parameter",
            RelayError::InvalidParameter { .. } => "invalid_parameter",
            RelayError::NotFound => "not_found",
            RelayError::MethodNotAllowed => "method_not_allowed",
            RelayError::AnswerOverMemory => "out_of_memory",
            RelayError::Config { .. } => "config",
            RelayError::UpstreamUnreachable { .. } => "upstream_unreachable",
            RelayError::UpstreamStatus { .. } => "upstream_status",
            RelayError::UpstreamInvalidJson(_) => "upstream_invalid_json",
            RelayError::UpstreamTooLarge { .. } => "upstream_too_large",
            RelayError::UpstreamEncoded => "upstream_encoding",
            RelayError::UpstreamTimeout { .. } => "upstream_timeout",
            RelayError::UpstreamShape { .. } => "upstream_shape",
            RelayError::RequestShape { .. } => "request_shape",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            RelayError::InUpstream { error, .. } => error.status(),
            RelayError::InvalidJson(_) | RelayError::RequestShape { .. } => 400,
            RelayError::BodyTooLarge { .. } | RelayError::BodyOverMemory => 413,
            RelayError::RequestTimeout { .. } => 408,
            RelayError::MissingParameter { .. } | RelayError::InvalidParameter { .. } => 400,
            RelayError::NotFound => 404,
            RelayError::MethodNotAllowed => 405,
            RelayError::AnswerOverMemory => 500,
            RelayError::Config { .. } => 500,
            RelayError::UpstreamTimeout { .. } => 504,
            // A client error stays the client's; the upstream's own failures are a bad gateway.
            RelayError::UpstreamStatus { status: status @ 400..=499 } => *status,
            _ => 502,
        }
    }

    /// One line of plain text, for logs and for the command's stderr.
    pub fn message(&self) -> String {
        // The subject first, one string for the messages about it, and one arm for the same
        // problem of the request and of the answer: 219 bytes fewer than whole texts per variant.
        let mut text = String::from(match self {
            RelayError::InvalidJson(_)
            | RelayError::BodyTooLarge { .. }
            | RelayError::BodyOverMemory
            | RelayError::RequestTimeout { .. }
            | RelayError::RequestShape { .. } => "the request body ",
            RelayError::UpstreamInvalidJson(_)
            | RelayError::UpstreamEncoded
            | RelayError::UpstreamTooLarge { .. }
            | RelayError::UpstreamShape { .. } => "the upstream's answer ",
            RelayError::UpstreamUnreachable { .. } | RelayError::UpstreamStatus { .. } | RelayError::UpstreamTimeout { .. } => {
                "the upstream "
            }
            RelayError::AnswerOverMemory => "the answer ",
            RelayError::InUpstream { .. } => "upstream ",
            _ => "",
        });
        match self {
            RelayError::InvalidJson(error) | RelayError::UpstreamInvalidJson(error) => {
                push_json_error(&mut text, "is not valid JSON: ", error)
            }
            RelayError::BodyTooLarge { limit } | RelayError::UpstreamTooLarge { limit } => {
                text.push_str("is larger than ");
                push_u64(&mut text, *limit);
                text.push_str(" bytes");
            }
            RelayError::BodyOverMemory | RelayError::AnswerOverMemory => text.push_str("does not fit in the relay's memory"),
            RelayError::RequestTimeout { timeout_ms } => {
                text.push_str("did not arrive within ");
                push_u64(&mut text, *timeout_ms);
                text.push_str(" ms");
            }
            RelayError::MissingParameter { name } | RelayError::InvalidParameter { name } => {
                text.push_str("the query parameter \"");
                text.push_str(name);
                text.push_str(match self {
                    RelayError::MissingParameter { .. } => "\" is missing",
                    _ => "\" cannot be a path segment",
                });
            }
            RelayError::NotFound => text.push_str("no route matches this path"),
            RelayError::MethodNotAllowed => text.push_str("this method is not allowed here"),
            RelayError::Config { setting, problem } => {
                text.push_str(setting);
                text.push_str(": ");
                text.push_str(problem);
            }
            RelayError::UpstreamUnreachable { detail } => {
                text.push_str("could not be reached: ");
                text.push_str(detail);
            }
            RelayError::UpstreamStatus { status } => {
                text.push_str("answered with status ");
                push_u64(&mut text, u64::from(*status));
            }
            RelayError::UpstreamEncoded => text.push_str("has a content-encoding the relay did not ask for"),
            RelayError::InUpstream { name, error } => {
                text.push_str(name);
                text.push_str(": ");
                text.push_str(&error.message());
            }
            RelayError::UpstreamShape { problem } | RelayError::RequestShape { problem } => {
                text.push_str("does not fit the shape: ");
                text.push_str(problem);
            }
            RelayError::UpstreamTimeout { timeout_ms } => {
                text.push_str("did not answer within ");
                push_u64(&mut text, *timeout_ms);
                text.push_str(" ms");
            }
        }
        text
    }

    /// The response body: `{"error":{"code":...,"message":...}}`, plus the upstream's `status`
    /// for `upstream_status`. A configuration problem is the operator's: clients are told only
    /// that there is one, and the detail goes to the log ([`RelayError::log_line`]).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"error\":{\"code\":");
        write_string(&mut out, self.code().as_bytes());
        out.extend_from_slice(b",\"message\":");
        match self {
            RelayError::Config { .. } => write_string(&mut out, b"the relay is misconfigured"),
            _ => write_string(&mut out, self.message().as_bytes()),
        }
        let (upstream, inner) = match self {
            RelayError::InUpstream { name, error } => (Some(name), &**error),
            other => (None, other),
        };
        if let RelayError::UpstreamStatus { status } = inner {
            let mut digits = String::new();
            push_u64(&mut digits, u64::from(*status));
            out.extend_from_slice(b",\"status\":");
            out.extend_from_slice(digits.as_bytes());
        }
        if let Some(name) = upstream {
            out.extend_from_slice(b",\"upstream\":");
            write_string(&mut out, name.as_bytes());
        }
        out.extend_from_slice(b"}}");
        out
    }
}

impl RelayError {
    /// `edge-relay: message` and a newline, for stderr, with the error's code before the message
    /// when `with_code` (the HTTP component's log; the command's users read the message alone).
    /// The message is escaped as a JSON string's contents are, so that a CR or LF in a setting (a
    /// field spec is quoted in its problem) can never split the line or forge another.
    pub fn log_line(&self, with_code: bool) -> Vec<u8> {
        let mut line = Vec::from(&b"edge-relay: "[..]);
        if with_code {
            line.extend_from_slice(self.code().as_bytes());
            line.extend_from_slice(b": ");
        }
        write_escaped(&mut line, self.message().as_bytes());
        line.push(b'\n');
        line
    }
}

fn push_json_error(text: &mut String, prefix: &str, error: &JsonError) {
    text.push_str(prefix);
    text.push_str(error.message());
    text.push_str(" at byte ");
    push_u64(text, error.offset);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{validate, JsonErrorKind};

    #[test]
    fn each_error_has_its_documented_code_and_status() {
        let json_error = JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: 3 };
        let cases = [
            (RelayError::InvalidJson(json_error), "invalid_json", 400),
            (RelayError::BodyTooLarge { limit: 10 }, "body_too_large", 413),
            (RelayError::BodyOverMemory, "body_too_large", 413),
            (RelayError::RequestTimeout { timeout_ms: 5 }, "request_timeout", 408),
            (RelayError::AnswerOverMemory, "out_of_memory", 500),
            (RelayError::MissingParameter { name: "city".into() }, "missing_parameter", 400),
            (RelayError::InvalidParameter { name: "id".into() }, "invalid_parameter", 400),
            (RelayError::NotFound, "not_found", 404),
            (RelayError::MethodNotAllowed, "method_not_allowed", 405),
            (RelayError::config("RELAY_FIELDS", "missing"), "config", 500),
            (RelayError::UpstreamUnreachable { detail: "connection refused" }, "upstream_unreachable", 502),
            (RelayError::UpstreamStatus { status: 503 }, "upstream_status", 502),
            (RelayError::UpstreamStatus { status: 404 }, "upstream_status", 404),
            (RelayError::UpstreamStatus { status: 429 }, "upstream_status", 429),
            (RelayError::UpstreamStatus { status: 301 }, "upstream_status", 502),
            (RelayError::UpstreamEncoded, "upstream_encoding", 502),
            (RelayError::UpstreamInvalidJson(json_error), "upstream_invalid_json", 502),
            (RelayError::UpstreamTooLarge { limit: 10 }, "upstream_too_large", 502),
            (RelayError::UpstreamTimeout { timeout_ms: 100 }, "upstream_timeout", 504),
        ];
        for (error, code, status) in cases {
            assert_eq!((error.code(), error.status()), (code, status));
            assert_eq!(validate(&error.to_json()), Ok(()), "{}", error.message());
        }
    }

    #[test]
    fn bodies_are_exact() {
        assert_eq!(
            RelayError::UpstreamStatus { status: 404 }.to_json(),
            br#"{"error":{"code":"upstream_status","message":"the upstream answered with status 404","status":404}}"#
        );
        let error = RelayError::InvalidJson(JsonError { kind: JsonErrorKind::UnexpectedByte, offset: 12 });
        assert_eq!(
            error.to_json(),
            br#"{"error":{"code":"invalid_json","message":"the request body is not valid JSON: unexpected character at byte 12"}}"#
        );
        let error = RelayError::config("RELAY_UPSTREAM_URL", "must start with \"http://\"");
        assert_eq!(error.message(), "RELAY_UPSTREAM_URL: must start with \"http://\"");
        assert_eq!(error.to_json(), br#"{"error":{"code":"config","message":"the relay is misconfigured"}}"#);
    }

    #[test]
    fn a_log_line_is_one_line() {
        let error = RelayError::config("RELAY_FIELDS", "in \"a\r\nedge-relay: forged\": x");
        assert_eq!(error.log_line(true), b"edge-relay: config: RELAY_FIELDS: in \\\"a\\r\\nedge-relay: forged\\\": x\n");
        let line = RelayError::UpstreamStatus { status: 500 }.log_line(false);
        assert_eq!(line, b"edge-relay: the upstream answered with status 500\n");
    }
}
