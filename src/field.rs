//! Field specs: `name=path`, or a bare `path` named by its last segment.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Problem;
use crate::json::MAX_PATHS;
use crate::path::{Path, PathError};
use crate::text;

/// One field of the answer: the name it gets there and where its value is in the upstream's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub path: Path,
}

impl Field {
    /// Parses one spec. The name is everything before the first `=`; a spec without `=` is a path
    /// whose last segment names the field.
    pub fn parse(spec: &str) -> Result<Field, String> {
        Field::parse_spec(spec).map_err(|problem| text::about("in \"", spec, "\": ", problem))
    }

    /// Whitespace is trimmed around the name and before the path; after a path it is kept for a
    /// JSON Pointer, whose every byte is a key's (`sp=/a ` names the key `"a "`), and trimmed
    /// after a dotted path.
    fn parse_spec(spec: &str) -> Result<Field, &'static str> {
        let (name, path_text) = match text::split_once(spec, b'=') {
            Some((name, path)) => (Some(name.trim_ascii()), path.trim_ascii_start()),
            None => (None, spec.trim_ascii_start()),
        };
        let path_text = if path_text.starts_with('/') { path_text } else { path_text.trim_ascii_end() };
        let path = Path::parse(path_text).map_err(PathError::message)?;
        let name = match name {
            Some(name) => name,
            None => path.last_key().ok_or("the whole document needs a name: write name=")?,
        };
        if name.is_empty() {
            return Err("the field name is empty");
        }
        Ok(Field { name: String::from(name), path })
    }
}

/// Parses a comma-separated list of specs, as `RELAY_FIELDS` holds them.
pub fn parse_list(list: &str) -> Result<Vec<Field>, Problem> {
    let mut fields = Vec::new();
    for spec in text::split(list, b',') {
        if spec.trim_ascii().is_empty() {
            return Err(Problem::Text("has an empty entry"));
        }
        fields.push(Field::parse(spec).map_err(Problem::Built)?);
    }
    check_count(&fields)?;
    Ok(fields)
}

/// A relay follows at most [`MAX_PATHS`] fields, needs at least one, and names each once (an
/// answer with a key twice would hold only one of its values for most clients).
pub fn check_count(fields: &[Field]) -> Result<(), Problem> {
    if fields.is_empty() {
        return Err(Problem::Text("no field is given"));
    }
    if fields.len() > MAX_PATHS {
        return Err(Problem::Text("more than 64 fields are given"));
    }
    for (at, field) in fields.iter().enumerate() {
        if fields.get(..at).unwrap_or(&[]).iter().any(|earlier| earlier.name == field.name) {
            return Err(Problem::Built(text::about("the name \"", &field.name, "\" ", "is given to two fields")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn names(fields: &[Field]) -> Vec<&str> {
        fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn named_and_bare_specs() {
        let fields = parse_list("id=/data/id, name = data.attributes.name,status,/meta/a~1b").unwrap();
        assert_eq!(names(&fields), ["id", "name", "status", "a/b"]);
        assert_eq!(fields[1].path, Path::parse("data.attributes.name").unwrap());
    }

    #[test]
    fn a_path_may_contain_equals_signs_after_the_name() {
        let field = Field::parse("eq=/a=b").unwrap();
        assert_eq!((field.name.as_str(), field.path.segments[0].key.as_str()), ("eq", "a=b"));
    }

    #[test]
    fn bad_specs_say_which_entry_is_wrong() {
        assert_eq!(parse_list("a,,b").unwrap_err(), "has an empty entry");
        assert_eq!(parse_list("x=a..b").unwrap_err(), "in \"x=a..b\": a dotted path has an empty segment");
        assert_eq!(parse_list("=a").unwrap_err(), "in \"=a\": the field name is empty");
        assert_eq!(parse_list("").unwrap_err(), "has an empty entry");
        assert!(parse_list("/").is_err());
        assert_eq!(parse_list("doc=").unwrap()[0].path.segments, vec![]);
        assert_eq!(parse_list("a=x,b=/y,a=z").unwrap_err(), "the name \"a\" is given to two fields");
        assert_eq!(parse_list("x,a.x").unwrap_err(), "the name \"x\" is given to two fields");
    }

    #[test]
    fn a_pointer_keeps_its_trailing_spaces_a_dotted_path_does_not() {
        let fields = parse_list("sp=/a , dot = b.c ,  /d ").unwrap();
        assert_eq!(fields[0].path.segments[0].key, "a ");
        assert_eq!((fields[1].name.as_str(), fields[1].path.segments[1].key.as_str()), ("dot", "c"));
        assert_eq!((fields[2].name.as_str(), fields[2].path.segments[0].key.as_str()), ("d ", "d "));
    }

    #[test]
    fn at_most_64_fields() {
        let list: Vec<String> = (0..65).map(|i| alloc::format!("f{i}")).collect();
        assert_eq!(parse_list(&list.join(",")).unwrap_err(), "more than 64 fields are given");
        assert_eq!(parse_list(&list[..64].join(",")).unwrap().len(), 64);
    }
}
