//! Why a document is not JSON.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    UnexpectedEnd,
    UnexpectedByte,
    InvalidUtf8,
    ControlCharacterInString,
    InvalidEscape,
    InvalidNumber,
    TrailingData,
}

/// Why a document is not JSON, and the byte offset where that became certain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    pub offset: u64,
}

impl JsonError {
    pub fn message(&self) -> &'static str {
        match self.kind {
            JsonErrorKind::UnexpectedEnd => "the document ends before its value is complete",
            JsonErrorKind::UnexpectedByte => "unexpected character",
            JsonErrorKind::InvalidUtf8 => "invalid UTF-8",
            JsonErrorKind::ControlCharacterInString => "unescaped control character in a string",
            JsonErrorKind::InvalidEscape => "invalid escape sequence in a string",
            JsonErrorKind::InvalidNumber => "malformed number",
            JsonErrorKind::TrailingData => "data after the end of the JSON value",
        }
    }
}
