//! The built artifacts against their worlds in wit/: what each imports and exports.

mod support;

use std::collections::BTreeSet;
use std::process::Command;

use support::{artifact, repo};

fn wasm_tools(args: &[&str]) -> (bool, String) {
    let output = Command::new("wasm-tools").args(args).output().expect("wasm-tools is not on PATH: run scripts/setup");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// The `import`/`export` lines of an artifact's world, as `wasm-tools component wit` prints it.
fn interfaces(name: &str, kind: &str) -> BTreeSet<String> {
    let path = artifact(name);
    let (ok, wit) = wasm_tools(&["component", "wit", path.to_str().unwrap()]);
    assert!(ok, "{wit}");
    wit.lines().filter_map(|line| line.trim().strip_prefix(kind)?.strip_prefix(' ')?.strip_suffix(';').map(String::from)).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|i| format!("{i}@0.2.12")).collect()
}

#[track_caller]
fn assert_targets(name: &str, world: &str) {
    let wit = repo().join("wit");
    let path = artifact(name);
    let (ok, text) = wasm_tools(&["component", "targets", wit.to_str().unwrap(), path.to_str().unwrap(), "--world", world]);
    assert!(ok, "{name} does not target {world}: {text}");
}

#[test]
fn the_http_component_targets_its_world() {
    assert_targets("edge_relay.wasm", "http-relay");
}

#[test]
fn the_http_component_imports_only_the_proxy_world_and_the_environment() {
    let allowed = set(&[
        "wasi:http/types",
        "wasi:http/outgoing-handler",
        "wasi:io/poll",
        "wasi:io/error",
        "wasi:io/streams",
        "wasi:clocks/monotonic-clock",
        "wasi:clocks/wall-clock",
        "wasi:random/random",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
        "wasi:cli/stdin",
        "wasi:cli/environment",
    ]);
    let imports = interfaces("edge_relay.wasm", "import");
    let extra: Vec<_> = imports.difference(&allowed).collect();
    assert!(extra.is_empty(), "imports outside wasi:http/proxy + wasi:cli/environment: {extra:?}");
    for needed in set(&["wasi:http/outgoing-handler", "wasi:cli/environment"]) {
        assert!(imports.contains(&needed), "{needed} is not imported: {imports:?}");
    }
    assert_eq!(interfaces("edge_relay.wasm", "export"), set(&["wasi:http/incoming-handler"]));
}

#[test]
fn the_command_targets_its_world() {
    assert_targets("edge_relay_cli.wasm", "cli-relay");
}

#[test]
fn the_command_reaches_the_network_only_through_wasi_http() {
    let imports = interfaces("edge_relay_cli.wasm", "import");
    assert!(imports.contains("wasi:http/outgoing-handler@0.2.12"), "{imports:?}");
    let sockets: Vec<_> = imports.iter().filter(|i| i.starts_with("wasi:sockets/")).collect();
    assert!(sockets.is_empty(), "the command must not open sockets itself: {sockets:?}");
    assert_eq!(interfaces("edge_relay_cli.wasm", "export"), set(&["wasi:cli/run"]));
}

#[test]
fn the_spin_component_is_the_portable_one_plus_spin_variables() {
    assert_targets("edge_relay_spin.wasm", "spin-relay");
    let mut expected = interfaces("edge_relay.wasm", "import");
    expected.insert("fermyon:spin/variables@2.0.0".to_string());
    assert_eq!(interfaces("edge_relay_spin.wasm", "import"), expected);
    assert_eq!(interfaces("edge_relay_spin.wasm", "export"), set(&["wasi:http/incoming-handler"]));
}
