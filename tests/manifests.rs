//! The Spin manifests and the SpinKube SpinApp: each names an artifact the build produces, uses
//! only declared variables, lets every component reach exactly its upstream, and configures the
//! relay with settings it accepts; spin.toml serves several endpoints from the one portable
//! artifact, each component on its own route with its own environment; and the SpinApp is one the
//! SpinKube CRD (spin-operator v0.6.1, vendored in tests/data/spinkube/) accepts.

mod openapi_schema;
mod support;

use std::collections::BTreeSet;

use edge_relay::config::{Config, SETTINGS};
use support::{artifact, repo};
use toml::Value;

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(name)).unwrap();
    Value::Table(text.parse::<toml::Table>().unwrap_or_else(|e| panic!("{name} is not TOML: {e}")))
}

fn relay_component(manifest: &Value) -> &Value {
    let served = served_components(manifest);
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].0, "/...");
    served[0].2
}

/// Each HTTP trigger's route, component name and component, in the manifest's order; every
/// component is served by exactly one trigger, and every trigger names a component.
fn served_components(manifest: &Value) -> Vec<(&str, &str, &Value)> {
    assert_eq!(manifest["spin_manifest_version"].as_integer(), Some(2));
    let components = manifest["component"].as_table().unwrap();
    let mut served = Vec::new();
    for trigger in manifest["trigger"]["http"].as_array().unwrap() {
        let route = trigger["route"].as_str().unwrap();
        let name = trigger["component"].as_str().unwrap();
        let component = components.get(name).unwrap_or_else(|| panic!("the route {route} names no component: {name}"));
        assert!(served.iter().all(|(known, _, _)| *known != route), "two triggers for {route}");
        assert!(served.iter().all(|(_, known, _)| *known != name), "{name} is served by two triggers");
        served.push((route, name, component));
    }
    for name in components.keys() {
        assert!(served.iter().any(|(_, known, _)| known == name), "no trigger serves the component {name}");
    }
    served
}

/// A route in Spin's syntax: `/`-separated literal segments or `:name` single-segment wildcards,
/// optionally ending in the trailing wildcard `/...` (`/...` alone matches every path). Its
/// segments, and whether it ends in the wildcard.
fn spin_route_segments(route: &str) -> Result<(Vec<&str>, bool), String> {
    let rest = route.strip_prefix('/').ok_or(format!("the Spin route {route} does not start with /"))?;
    let (rest, trailing) = match rest.strip_suffix("...") {
        Some(head) if head.is_empty() || head.ends_with('/') => (head.strip_suffix('/').unwrap_or(head), true),
        _ => (rest, false),
    };
    if rest.is_empty() {
        return Ok((Vec::new(), trailing));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    for segment in &segments {
        // `{id}` is the relay's placeholder syntax (RELAY_ROUTE), not Spin's.
        if segment.is_empty() || segment.contains(['{', '}', '*']) || segment.contains("...") || *segment == ":" {
            return Err(format!("{route} is not a Spin route: the segment {segment:?}"));
        }
    }
    Ok((segments, trailing))
}

/// Whether every path of the relay route `relay_route` (`/users/{id}`, `/v1/{rest*}`) is one that
/// the Spin route `spin_route` sends to the component: otherwise part of it could never be reached.
fn spin_route_covers(spin_route: &str, relay_route: &str) -> bool {
    let (spin, trailing) = spin_route_segments(spin_route).unwrap();
    let relay: Vec<&str> = relay_route.strip_prefix('/').unwrap_or(relay_route).split('/').collect();
    let fits = |spin: &str, relay: &str| {
        let placeholder = relay.starts_with('{');
        let rest = relay.ends_with("*}");
        // A `:name` wildcard takes any one segment; a literal only itself.
        (spin.starts_with(':') && !rest) || (spin == relay && !placeholder)
    };
    let lengths_fit = if trailing { relay.len() >= spin.len() } else { relay.len() == spin.len() };
    lengths_fit && spin.iter().zip(&relay).all(|(s, r)| fits(s, r))
}

/// The environment of a component, as the relay reads it.
fn environment(component: &Value) -> Vec<(String, String)> {
    let table = component["environment"].as_table().expect("the component has an environment");
    table.iter().map(|(k, v)| (k.clone(), v.as_str().expect("environment values are strings").to_string())).collect()
}

fn setting<'e>(environment: &'e [(String, String)], name: &str) -> Option<&'e str> {
    environment.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `scheme://authority` of an absolute URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").unwrap_or_else(|| panic!("{url} is not an absolute URL")) + 3;
    let end = url[after_scheme..].find(['/', '?', '#']).map_or(url.len(), |at| after_scheme + at);
    &url[..end]
}

fn source_exists(component: &Value) -> String {
    let source = component["source"].as_str().unwrap();
    let name = source.strip_prefix("dist/").unwrap_or_else(|| panic!("{source} is not a build artifact"));
    artifact(name);
    source.to_string()
}

fn hosts(component: &Value) -> Vec<&str> {
    component["allowed_outbound_hosts"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect()
}

/// The `{{ name }}` references in a template.
fn references(template: &str) -> Vec<String> {
    template.split("{{").skip(1).map(|rest| rest.split("}}").next().unwrap().trim().to_string()).collect()
}

#[test]
fn every_component_of_the_portable_manifest_serves_the_portable_artifact_against_exactly_its_upstream() {
    let spin = manifest("spin.toml");
    let served = served_components(&spin);
    assert!(served.len() >= 2, "spin.toml shows several endpoints from one artifact");
    let mut builds = Vec::new();
    for (route, name, component) in &served {
        assert_eq!(source_exists(component), "dist/edge_relay.wasm", "{name}");
        let environment = environment(component);
        for required in ["RELAY_UPSTREAM_URL", "RELAY_FIELDS"] {
            assert!(setting(&environment, required).is_some_and(|v| !v.is_empty()), "{name} does not set {required}");
        }
        for (variable, _) in &environment {
            assert!(SETTINGS.contains(&variable.as_str()), "{name}: {variable} is not a setting the relay reads");
        }
        let config = Config::from_env(&environment).unwrap_or_else(|e| panic!("{name}'s environment is not a valid configuration: {e:?}"));
        let url = setting(&environment, "RELAY_UPSTREAM_URL").unwrap();
        let origin = origin_of(url);
        assert_eq!(origin.split_once("://").unwrap().1, config.job.upstream.authority, "{name}: the relay reads another host");
        assert_eq!(hosts(component), [origin], "{name} may reach exactly the upstream of its RELAY_UPSTREAM_URL");
        spin_route_segments(route).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The relay's route must lie inside the Spin route, or part of it is unreachable.
        if let Some(relay_route) = setting(&environment, "RELAY_ROUTE") {
            assert!(spin_route_covers(route, relay_route), "{name}: the Spin route {route} does not cover RELAY_ROUTE={relay_route}");
        }
        if let Some(build) = component.get("build") {
            builds.push(build["command"].as_str().unwrap());
        }
    }
    // One source, so one build: the first component's.
    assert_eq!(builds, ["scripts/build http"]);
    // The catch-all keeps the demo's fields (scripts/demo, README).
    let (_, _, catch_all) = served.iter().find(|(route, _, _)| *route == "/...").expect("a catch-all route");
    let fields = setting(&environment(catch_all), "RELAY_FIELDS").unwrap().to_string();
    assert_eq!(fields, "id=/data/id,name=data.attributes.name,status=/meta/status,first_tag=data.attributes.tags.0");
}

#[test]
fn spin_routes_are_read_as_spin_reads_them() {
    assert!(spin_route_covers("/...", "/users/{id}"));
    assert!(spin_route_covers("/users/...", "/users/{id}"));
    assert!(spin_route_covers("/users/:id", "/users/{id}"));
    assert!(spin_route_covers("/weather", "/weather"));
    assert!(spin_route_covers("/v1/...", "/v1/{rest*}"));
    assert!(!spin_route_covers("/weather", "/weather/{city}"));
    assert!(!spin_route_covers("/users", "/users/{id}"));
    assert!(!spin_route_covers("/users/...", "/accounts/{id}"));
    assert!(!spin_route_covers("/users/:id", "/users/{id}/profile"));
    assert!(!spin_route_covers("/v1/:rest", "/v1/{rest*}"));
    assert!(!spin_route_covers("/users/7", "/users/{id}"));
    assert_eq!(origin_of("http://127.0.0.1:8081/api/users/{id}?lang={query.lang}"), "http://127.0.0.1:8081");
    assert_eq!(origin_of("https://api.example.com?q=1"), "https://api.example.com");
    for not_spin in ["/users/{id}", "users/...", "/users/", "/a/.../b", "/users/:", "/v1/*", "/users..."] {
        assert!(spin_route_segments(not_spin).is_err(), "{not_spin} passed as a Spin route");
    }
    assert_eq!(spin_route_segments("/..."), Ok((vec![], true)));
    assert_eq!(spin_route_segments("/users/:id/edit"), Ok((vec!["users", ":id", "edit"], false)));
}

#[test]
fn the_variables_manifest_declares_every_variable_it_uses() {
    let spin = manifest("spin.variables.toml");
    let declared: BTreeSet<String> = spin["variables"].as_table().unwrap().keys().cloned().collect();
    let component = relay_component(&spin);
    assert_eq!(source_exists(component), "dist/edge_relay_spin.wasm");
    assert_eq!(component["build"]["command"].as_str(), Some("scripts/build spin"));

    let mut used = Vec::new();
    for host in hosts(component) {
        assert!(host.starts_with("{{"), "allowed_outbound_hosts follows the upstream variable: {host}");
        used.extend(references(host));
    }
    let settings: BTreeSet<String> = SETTINGS.iter().map(|s| s.to_ascii_lowercase()).collect();
    for (name, template) in component["variables"].as_table().unwrap() {
        assert!(settings.contains(name), "{name} is not a setting the relay reads");
        used.extend(references(template.as_str().unwrap()));
    }
    for name in &used {
        assert!(declared.contains(name), "{name} is used but not declared");
    }
    assert!(component["variables"]["relay_upstream_url"].as_str().unwrap().starts_with("{{ upstream_origin }}"));
    let key = &spin["variables"]["api_key"];
    assert_eq!((key["secret"].as_bool(), key["required"].as_bool()), (Some(true), Some(true)));
}

#[test]
fn the_spinapp_sets_only_declared_variables_and_takes_the_key_from_a_secret() {
    let spin = manifest("spin.variables.toml");
    let declared: BTreeSet<String> = spin["variables"].as_table().unwrap().keys().cloned().collect();
    let yaml = std::fs::read_to_string(repo().join("deploy/spinapp.yaml")).unwrap();
    assert!(yaml.contains("kind: SpinApp") && yaml.contains("executor: containerd-shim-spin"));
    let names: Vec<&str> = yaml.lines().filter_map(|l| l.trim().strip_prefix("- name: ")).collect();
    assert!(!names.is_empty());
    for name in &names {
        assert!(declared.contains(*name), "{name} is not declared in spin.variables.toml");
    }
    let required: Vec<&String> = declared.iter().filter(|n| spin["variables"][n.as_str()].get("default").is_none()).collect();
    for name in required {
        assert!(names.contains(&name.as_str()), "the required variable {name} is not set");
    }
    let api_key = yaml.split("- name: api_key").nth(1).unwrap();
    assert!(api_key.trim_start().starts_with("valueFrom:") && api_key.contains("secretKeyRef:"));
}

fn yaml(relative: &str) -> serde_norway::Value {
    let text = std::fs::read_to_string(repo().join(relative)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
}

/// The errors of deploy/spinapp.yaml, after `edit`, against the `v1alpha1` schema of the SpinApp
/// CRD.
fn spinapp_errors(edit: impl FnOnce(&mut serde_norway::Value)) -> Vec<String> {
    let crd = openapi_schema::crd_version(&yaml("tests/data/spinkube/core.spinkube.dev_spinapps.yaml"), "v1alpha1");
    assert_eq!((crd.api_version.as_str(), crd.kind.as_str()), ("core.spinkube.dev/v1alpha1", "SpinApp"));
    let mut spinapp = yaml("deploy/spinapp.yaml");
    edit(&mut spinapp);
    openapi_schema::validate_resource(&crd, &spinapp)
}

/// The index in `spec.variables` of the variable `name`.
fn variable(spinapp: &serde_norway::Value, name: &str) -> usize {
    let variables = spinapp["spec"]["variables"].as_sequence().unwrap();
    variables.iter().position(|v| v["name"].as_str() == Some(name)).unwrap()
}

#[test]
fn the_validator_understands_every_keyword_of_the_spinapp_crd() {
    let crd = openapi_schema::crd_version(&yaml("tests/data/spinkube/core.spinkube.dev_spinapps.yaml"), "v1alpha1");
    assert_eq!(openapi_schema::unsupported_keywords(&crd.schema, ""), Vec::<String>::new());
}

#[test]
fn the_spinapp_is_valid_against_the_spinkube_crd() {
    let errors = spinapp_errors(|_| {});
    assert!(errors.is_empty(), "deploy/spinapp.yaml breaks the SpinApp v1alpha1 schema:\n{}", errors.join("\n"));
}

#[test]
fn a_misspelled_spinapp_field_is_rejected_with_its_path() {
    let errors = spinapp_errors(|s| s["spec"]["replica"] = 2.into());
    assert_eq!(errors, [r#"spec.replica: unknown field (did you mean "replicas"?)"#]);
    let errors = spinapp_errors(|s| {
        let i = variable(s, "timeout_ms");
        let v = s["spec"]["variables"][i].as_mapping_mut().unwrap();
        let value = v.remove("value").unwrap();
        v.insert("valu".into(), value);
    });
    let i = variable(&yaml("deploy/spinapp.yaml"), "timeout_ms");
    assert_eq!(errors, [format!(r#"spec.variables[{i}].valu: unknown field (did you mean "value"?)"#)]);
    let errors = spinapp_errors(|s| s["metadata"]["lables"] = serde_norway::Value::Mapping(Default::default()));
    assert_eq!(errors, [r#"metadata.lables: unknown field (did you mean "labels"?)"#]);
}

#[test]
fn a_spinapp_without_a_required_field_is_rejected_with_its_path() {
    let errors = spinapp_errors(|s| drop(s["spec"].as_mapping_mut().unwrap().remove("image")));
    assert_eq!(errors, ["spec.image: required field is missing"]);
    let errors = spinapp_errors(|s| {
        let i = variable(s, "api_key");
        drop(s["spec"]["variables"][i]["valueFrom"]["secretKeyRef"].as_mapping_mut().unwrap().remove("key"));
    });
    let i = variable(&yaml("deploy/spinapp.yaml"), "api_key");
    assert_eq!(errors, [format!("spec.variables[{i}].valueFrom.secretKeyRef.key: required field is missing")]);
    let errors = spinapp_errors(|s| drop(s["metadata"].as_mapping_mut().unwrap().remove("name")));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("metadata: matches no branch of anyOf: metadata.name: required field is missing"), "{errors:?}");
}

#[test]
fn a_wrongly_typed_spinapp_field_is_rejected_with_its_path() {
    let errors = spinapp_errors(|s| s["spec"]["replicas"] = "2".into());
    assert_eq!(errors, ["spec.replicas: expected integer, found a string"]);
    let errors = spinapp_errors(|s| s["spec"]["variables"][0]["value"] = 5000.into());
    assert_eq!(errors, ["spec.variables[0].value: expected string, found an integer"]);
    let errors = spinapp_errors(|s| s["spec"]["resources"]["limits"]["cpu"] = true.into());
    assert_eq!(errors, ["spec.resources.limits.cpu: expected an integer or a string, found a boolean"]);
    let errors = spinapp_errors(|s| s["spec"]["resources"]["limits"]["memory"] = "64 MiB".into());
    assert_eq!(errors, [r#"spec.resources.limits.memory: "64 MiB" is not a Kubernetes quantity (e.g. 100m, 64Mi)"#]);
    // A quantity may also be a bare integer.
    assert!(spinapp_errors(|s| s["spec"]["resources"]["limits"]["cpu"] = 1.into()).is_empty());
    let errors = spinapp_errors(|s| s["spec"]["enableAutoscaling"] = "false".into());
    assert_eq!(errors, ["spec.enableAutoscaling: expected boolean, found a string"]);
    let errors = spinapp_errors(|s| s["apiVersion"] = "core.spinkube.dev/v1".into());
    assert_eq!(errors, [r#"apiVersion: expected "core.spinkube.dev/v1alpha1", found Some("core.spinkube.dev/v1")"#]);
}
