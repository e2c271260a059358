//! A small validator for the part of OpenAPI v3 that a Kubernetes CRD's structural schema uses, so
//! tests/manifests.rs can check a custom resource the way an API server would, with no cluster.
//!
//! Checked: `type` (object, array, string, integer, number, boolean), `properties`, `required`,
//! `additionalProperties` (a schema or a boolean), `items`, `enum`, `anyOf`/`oneOf`/`allOf`,
//! `nullable`, `minimum`/`maximum` (and the v3.0 boolean `exclusiveMinimum`/`exclusiveMaximum`),
//! `minLength`/`maxLength`, `minItems`/`maxItems`, `x-kubernetes-int-or-string` and
//! `x-kubernetes-preserve-unknown-fields` (fields not in `properties` are kept and not looked at).
//! `pattern` is checked for the one pattern the SpinApp CRD applies to spec fields, Kubernetes'
//! resource quantity; other patterns, `format`, `default`, `description` and the
//! `x-kubernetes-list-type`/`-map-type` merge hints are not checked. Any other schema keyword is
//! reported as an error, so a newer CRD cannot pass by using something this does not understand.
//!
//! Like an API server with strict field validation (kubectl's default), a field of an object that
//! is not in its `properties`, with no `additionalProperties` and no preserve-unknown-fields, is an
//! error. Each error starts with the path of the offending value, e.g. `spec.variables[4].name`.
#![allow(dead_code)]

use serde_norway::{Mapping, Value};

const IGNORED: &[&str] = &[
    "description",
    "default",
    "format",
    "example",
    "title",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
];

const CHECKED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "anyOf",
    "oneOf",
    "allOf",
    "nullable",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
];

/// Kubernetes' resource quantity (`100m`, `64Mi`, `1e3`), as the CRD's `pattern` spells it.
pub const QUANTITY_PATTERN: &str =
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

/// What the API server itself checks of `metadata` (an `ObjectMeta`; a CRD's schema only says
/// `type: object` there): the fields a manifest may set, and a name or a generateName.
const OBJECT_META: &str = r#"
type: object
anyOf:
  - required: [name]
  - required: [generateName]
properties:
  name: {type: string, maxLength: 253}
  generateName: {type: string}
  namespace: {type: string, maxLength: 63}
  labels: {type: object, additionalProperties: {type: string}}
  annotations: {type: object, additionalProperties: {type: string}}
  finalizers: {type: array, items: {type: string}}
  ownerReferences: {type: array, items: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  uid: {type: string}
  resourceVersion: {type: string}
  generation: {type: integer}
  creationTimestamp: {type: string, nullable: true}
  deletionTimestamp: {type: string, nullable: true}
  deletionGracePeriodSeconds: {type: integer}
  managedFields: {type: array, items: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  selfLink: {type: string}
"#;

/// The `openAPIV3Schema` of `version` in a CustomResourceDefinition, with the `apiVersion` and
/// `kind` a resource of that version must carry.
pub struct CrdVersion {
    pub schema: Value,
    pub api_version: String,
    pub kind: String,
}

pub fn crd_version(crd: &Value, version: &str) -> CrdVersion {
    assert_eq!(crd["kind"].as_str(), Some("CustomResourceDefinition"));
    let spec = &crd["spec"];
    let group = spec["group"].as_str().expect("spec.group");
    let kind = spec["names"]["kind"].as_str().expect("spec.names.kind");
    let versions = spec["versions"].as_sequence().expect("spec.versions");
    let found = versions.iter().find(|v| v["name"].as_str() == Some(version)).unwrap_or_else(|| panic!("the CRD has no version {version}"));
    assert_eq!(found["served"].as_bool(), Some(true), "version {version} is not served");
    let schema = found["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_mapping(), "version {version} has no openAPIV3Schema");
    CrdVersion { schema, api_version: format!("{group}/{version}"), kind: kind.to_string() }
}

/// Every error of a custom resource against its CRD version: `apiVersion` and `kind`, the schema,
/// and `metadata` as the API server checks an ObjectMeta.
pub fn validate_resource(crd: &CrdVersion, resource: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    for (field, expected) in [("apiVersion", &crd.api_version), ("kind", &crd.kind)] {
        match resource.get(field).and_then(Value::as_str) {
            Some(found) if found == expected => {}
            found => errors.push(format!("{field}: expected {expected:?}, found {found:?}")),
        }
    }
    let mut schema = crd.schema.clone();
    let object_meta: Value = serde_norway::from_str(OBJECT_META).unwrap();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_mapping_mut) {
        properties.insert(Value::from("metadata"), object_meta);
    }
    validate(&schema, resource, "", &mut errors);
    errors
}

/// The keywords anywhere in `schema` that this validator neither checks nor knowingly ignores
/// (`validate` reports them too, but only in the parts a document reaches).
pub fn unsupported_keywords(schema: &Value, path: &str) -> Vec<String> {
    let Some(map) = schema.as_mapping() else { return Vec::new() };
    let mut found = Vec::new();
    for (key, sub) in map {
        let key = key.as_str().unwrap_or("(not a string)");
        match key {
            "properties" => {
                for (name, property) in sub.as_mapping().into_iter().flatten() {
                    found.extend(unsupported_keywords(property, &join(path, name.as_str().unwrap_or("?"))));
                }
            }
            "items" | "additionalProperties" => found.extend(unsupported_keywords(sub, &format!("{path}/{key}"))),
            "anyOf" | "oneOf" | "allOf" => {
                for (i, branch) in sub.as_sequence().into_iter().flatten().enumerate() {
                    found.extend(unsupported_keywords(branch, &format!("{path}/{key}[{i}]")));
                }
            }
            _ if CHECKED.contains(&key) || IGNORED.contains(&key) => {}
            _ => found.push(format!("{}: {key}", shown(path))),
        }
    }
    found
}

/// Appends to `errors` every way `value`, found at `path`, breaks `schema`.
pub fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_mapping() else {
        if schema.as_bool() == Some(false) {
            errors.push(format!("{}: no value is allowed here", shown(path)));
        } else if schema.as_bool() != Some(true) {
            errors.push(format!("{}: the schema here is not a mapping: {schema:?}", shown(path)));
        }
        return;
    };
    for key in schema.keys() {
        let key = key.as_str().unwrap_or("(not a string)");
        if !CHECKED.contains(&key) && !IGNORED.contains(&key) {
            errors.push(format!("{}: unsupported schema keyword {key:?}", shown(path)));
        }
    }
    let flag = |name: &str| schema.get(name).and_then(Value::as_bool) == Some(true);
    let preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");

    if value.is_null() {
        if !(flag("nullable") || preserve_unknown && schema.get("type").is_none()) {
            errors.push(format!("{}: null is not allowed here (the API server drops it)", shown(path)));
        }
        return;
    }
    if flag("x-kubernetes-int-or-string") && !is_integer(value) && !value.is_string() {
        errors.push(format!("{}: expected an integer or a string, found {}", shown(path), kind(value)));
        return;
    }
    if let Some(expected) = schema.get("type") {
        let expected = expected.as_str().unwrap_or("(not a string)");
        let fits = match expected {
            "object" => value.is_mapping(),
            "array" => value.is_sequence(),
            "string" => value.is_string(),
            "integer" => is_integer(value),
            "number" => value.is_number(),
            "boolean" => value.is_bool(),
            other => {
                errors.push(format!("{}: unsupported schema type {other:?}", shown(path)));
                return;
            }
        };
        if !fits {
            errors.push(format!("{}: expected {expected}, found {}", shown(path), kind(value)));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_sequence) {
        if !allowed.contains(value) {
            errors.push(format!("{}: {} is not one of {}", shown(path), brief(value), brief_all(allowed)));
        }
    }
    match value {
        Value::String(text) => check_string(schema, text, path, errors),
        Value::Number(_) => check_number(schema, value, path, errors),
        Value::Sequence(items) => check_array(schema, items, path, errors),
        Value::Mapping(fields) => check_object(schema, fields, preserve_unknown, path, errors),
        _ => {}
    }
    check_combinators(schema, value, path, errors);
}

fn check_string(schema: &Mapping, text: &str, path: &str, errors: &mut Vec<String>) {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if length < min {
            errors.push(format!("{}: {text:?} is shorter than {min}", shown(path)));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if length > max {
            errors.push(format!("{}: {length} characters, more than {max}", shown(path)));
        }
    }
    if schema.get("pattern").and_then(Value::as_str) == Some(QUANTITY_PATTERN) && !is_quantity(text) {
        errors.push(format!("{}: {text:?} is not a Kubernetes quantity (e.g. 100m, 64Mi)", shown(path)));
    }
}

fn check_number(schema: &Mapping, value: &Value, path: &str, errors: &mut Vec<String>) {
    let number = value.as_f64().unwrap();
    let exclusive = |name: &str| schema.get(name).and_then(Value::as_bool) == Some(true);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if number < min || (exclusive("exclusiveMinimum") && number == min) {
            errors.push(format!("{}: {} is below the minimum {min}", shown(path), brief(value)));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if number > max || (exclusive("exclusiveMaximum") && number == max) {
            errors.push(format!("{}: {} is above the maximum {max}", shown(path), brief(value)));
        }
    }
}

fn check_array(schema: &Mapping, items: &[Value], path: &str, errors: &mut Vec<String>) {
    let count = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if count < min {
            errors.push(format!("{}: {count} items, fewer than {min}", shown(path)));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if count > max {
            errors.push(format!("{}: {count} items, more than {max}", shown(path)));
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            validate(item_schema, item, &format!("{path}[{index}]"), errors);
        }
    }
}

fn check_object(schema: &Mapping, fields: &Mapping, preserve_unknown: bool, path: &str, errors: &mut Vec<String>) {
    let properties = schema.get("properties").and_then(Value::as_mapping);
    if let Some(required) = schema.get("required").and_then(Value::as_sequence) {
        for name in required.iter().filter_map(Value::as_str) {
            if !fields.contains_key(name) {
                errors.push(format!("{}: required field is missing", join(path, name)));
            }
        }
    }
    // Unknown fields matter where the schema describes an object; a branch of anyOf that only
    // says `required` (say) leaves the rest to the schema around it.
    let describes_object =
        schema.get("type").and_then(Value::as_str) == Some("object") || properties.is_some() || schema.contains_key("additionalProperties");
    for (name, field) in fields {
        let Some(name) = name.as_str() else {
            errors.push(format!("{}: field name {} is not a string", shown(path), brief(name)));
            continue;
        };
        let field_path = join(path, name);
        if let Some(field_schema) = properties.and_then(|p| p.get(name)) {
            validate(field_schema, field, &field_path, errors);
            continue;
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => {}
            Some(additional @ Value::Mapping(_)) => validate(additional, field, &field_path, errors),
            _ if preserve_unknown || !describes_object => {}
            _ => {
                let known: Vec<&str> = properties.into_iter().flat_map(|p| p.keys()).filter_map(Value::as_str).collect();
                let hint = match known.iter().find(|k| close(k, name)) {
                    Some(k) => format!(" (did you mean {k:?}?)"),
                    None if known.is_empty() => " (the schema allows no fields here)".to_string(),
                    None => format!(" (known: {})", known.join(", ")),
                };
                errors.push(format!("{field_path}: unknown field{hint}"));
            }
        }
    }
}

fn check_combinators(schema: &Mapping, value: &Value, path: &str, errors: &mut Vec<String>) {
    let branches = |name: &str| -> Vec<Vec<String>> {
        let list = schema.get(name).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        list.iter()
            .map(|branch| {
                let mut found = Vec::new();
                validate(branch, value, path, &mut found);
                found
            })
            .collect()
    };
    let failing = |results: &[Vec<String>]| results.iter().map(|e| e.join("; ")).collect::<Vec<_>>().join(" | ");
    let any_of = branches("anyOf");
    if !any_of.is_empty() && any_of.iter().all(|e| !e.is_empty()) {
        errors.push(format!("{}: matches no branch of anyOf: {}", shown(path), failing(&any_of)));
    }
    let one_of = branches("oneOf");
    if !one_of.is_empty() {
        let matching = one_of.iter().filter(|e| e.is_empty()).count();
        if matching == 0 {
            errors.push(format!("{}: matches no branch of oneOf: {}", shown(path), failing(&one_of)));
        } else if matching > 1 {
            errors.push(format!("{}: matches {matching} branches of oneOf, not exactly one", shown(path)));
        }
    }
    for found in branches("allOf") {
        errors.extend(found);
    }
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64()
}

/// [`QUANTITY_PATTERN`] by hand: sign, number, then nothing, a binary or decimal SI suffix, or an
/// exponent.
pub fn is_quantity(text: &str) -> bool {
    fn number(s: &str) -> Option<&str> {
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let whole = digits(s);
        let rest = &s[whole..];
        match rest.strip_prefix('.') {
            Some(after) if whole > 0 || digits(after) > 0 => Some(&after[digits(after)..]),
            Some(_) => None,
            None if whole > 0 => Some(rest),
            None => None,
        }
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let Some(suffix) = number(unsigned) else { return false };
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        s if s.len() == 1 && "numkMGTPE".contains(s) => true,
        s => match s.strip_prefix(['e', 'E']) {
            Some(exponent) => number(exponent.strip_prefix(['+', '-']).unwrap_or(exponent)) == Some(""),
            None => false,
        },
    }
}

/// A likely typo: one character added, dropped or changed, or two neighbours swapped.
fn close(known: &str, found: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (known.chars().collect(), found.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    a.len().max(b.len()) <= 1 || (a.len() == 2 && b.len() == 2 && a[0] == b[1] && a[1] == b[0])
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "(the document)"
    } else {
        path
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "an array",
        Value::Mapping(_) => "an object",
        Value::Tagged(_) => "a tagged value",
    }
}

fn brief(value: &Value) -> String {
    serde_norway::to_string(value).map(|s| s.trim_end().to_string()).unwrap_or_else(|_| format!("{value:?}"))
}

fn brief_all(values: &[Value]) -> String {
    values.iter().map(brief).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod validator_tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    fn errors(schema: &str, value: &str) -> Vec<String> {
        let mut found = Vec::new();
        validate(&yaml(schema), &yaml(value), "", &mut found);
        found
    }

    #[test]
    fn quantities_are_what_the_pattern_says() {
        for good in ["1", "100m", "64Mi", "0.5", ".5", "5.", "+1k", "-2E", "1e3", "1E-3", "1.5e+2.5", "2Ei"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "m", "1 m", "1mi", "1KiB", "1e", "1.2.3", "..5", "1x", "1e3m", "Mi", "1ki"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn preserve_unknown_fields_lets_anything_through_below_it() {
        let schema = "type: object\nproperties:\n  a: {type: integer}\nx-kubernetes-preserve-unknown-fields: true";
        assert!(errors(schema, "{a: 1, b: {c: [1, x]}}").is_empty());
        assert_eq!(errors(schema, "{a: x}"), ["a: expected integer, found a string"]);
        assert!(errors("x-kubernetes-preserve-unknown-fields: true", "{b: null, c: [1]}").is_empty());
    }

    #[test]
    fn int_or_string_takes_both_and_nothing_else() {
        let schema = "anyOf: [{type: integer}, {type: string}]\nx-kubernetes-int-or-string: true";
        assert!(errors(schema, "3").is_empty());
        assert!(errors(schema, "3Gi").is_empty());
        assert_eq!(errors(schema, "true"), ["(the document): expected an integer or a string, found a boolean"]);
        assert_eq!(errors(schema, "1.5").len(), 1);
    }

    #[test]
    fn an_object_without_properties_takes_no_fields_but_additional_properties_opens_it() {
        assert_eq!(errors("type: object", "{a: 1}"), ["a: unknown field (the schema allows no fields here)"]);
        assert!(errors("type: object\nadditionalProperties: {type: string}", "{a: x}").is_empty());
        assert_eq!(errors("type: object\nadditionalProperties: {type: string}", "{a: 1}"), ["a: expected string, found an integer"]);
        assert!(errors("type: object\nadditionalProperties: true", "{a: 1}").is_empty());
    }

    #[test]
    fn one_of_wants_exactly_one_and_enum_and_bounds_hold() {
        let schema = "oneOf: [{type: integer}, {type: number}]";
        assert_eq!(errors(schema, "1"), ["(the document): matches 2 branches of oneOf, not exactly one"]);
        assert!(errors(schema, "1.5").is_empty());
        assert_eq!(errors("enum: [a, b]", "c"), ["(the document): c is not one of a, b"]);
        assert_eq!(errors("{type: integer, minimum: 0}", "-1").len(), 1);
        assert_eq!(errors("{type: array, minItems: 1, items: {type: boolean}}", "[]").len(), 1);
        assert_eq!(errors("{type: array, items: {type: boolean}}", "[true, 1]"), ["[1]: expected boolean, found an integer"]);
        assert_eq!(errors("{type: string, nullable: true}", "null"), Vec::<String>::new());
        assert_eq!(errors("{type: string}", "null").len(), 1);
    }

    #[test]
    fn a_near_miss_is_named() {
        for (known, found) in [("replicas", "replica"), ("labels", "lables"), ("value", "valeu"), ("image", "imagex")] {
            assert!(close(known, found), "{known} {found}");
        }
        for (known, found) in [("replicas", "replic"), ("image", "executor"), ("value", "vlaeu"), ("name", "")] {
            assert!(!close(known, found), "{known} {found}");
        }
    }

    #[test]
    fn an_unknown_schema_keyword_is_an_error_not_a_pass() {
        assert_eq!(errors("{type: string, not: {type: integer}}", "x"), ["(the document): unsupported schema keyword \"not\""]);
    }
}
