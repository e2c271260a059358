//! The Spin manifests and the SpinKube SpinApp: each names an artifact the build produces, uses
//! only declared variables, lets the component reach exactly its upstream, and configures the
//! relay with settings it accepts.

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
    let environment: Vec<(String, String)> = component["environment"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
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
