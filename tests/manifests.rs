//! The Spin manifests and the SpinKube SpinApp: each names an artifact the build produces, uses
//! only declared variables, lets the component reach exactly its upstream, and configures the
//! relay with settings it accepts; and the SpinApp is one the SpinKube CRD (spin-operator v0.6.1,
//! vendored in tests/data/spinkube/) accepts.

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
    assert_eq!(manifest["spin_manifest_version"].as_integer(), Some(2));
    let triggers = manifest["trigger"]["http"].as_array().unwrap();
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0]["route"].as_str(), Some("/..."));
    let name = triggers[0]["component"].as_str().unwrap();
    &manifest["component"][name]
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
fn the_portable_manifest_serves_the_portable_artifact_against_exactly_its_upstream() {
    let spin = manifest("spin.toml");
    let component = relay_component(&spin);
    assert_eq!(source_exists(component), "dist/edge_relay.wasm");
    let environment: Vec<(String, String)> =
        component["environment"].as_table().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
    let config = Config::from_env(&environment).expect("the manifest's environment is a valid configuration");
    let url = environment.iter().find(|(k, _)| k == "RELAY_UPSTREAM_URL").unwrap().1.clone();
    let origin = format!("http://{}", config.job.upstream.authority);
    assert!(url.starts_with(&origin));
    assert_eq!(hosts(component), [origin.as_str()]);
    assert_eq!(component["build"]["command"].as_str(), Some("scripts/build http"));
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
