//! Runs one test inside a fresh network namespace that has only loopback, so nothing it does (a
//! host-name lookup included) can leave the machine: the test re-executes its own test binary
//! under `unshare --net --mount`, with `lo` brought up and a hosts file of its own bind-mounted on
//! /etc/hosts, and passes if that inner run passes. Where the namespace cannot be made (not root,
//! no util-linux `unshare`, no iproute2 `ip`), the test says `skipped: ...` on stderr and passes.
//!
//! ```ignore
//! let Some(inside) = netns::isolated("the_test_name") else { return };
//! // from here on, only in the namespace
//! ```
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the inner run: the path of the hosts file bind-mounted on /etc/hosts there.
const INNER: &str = "EDGE_RELAY_NETNS_HOSTS";

/// What the inner run is given: the namespace's /etc/hosts, which it may add names to.
pub struct Inside {
    hosts: PathBuf,
}

impl Inside {
    /// Makes `name` resolve to `address` from now on, for every process in the namespace (the C
    /// library reads /etc/hosts afresh at each lookup).
    pub fn add_host(&self, name: &str, address: &str) {
        let mut file = OpenOptions::new().append(true).open(&self.hosts).unwrap();
        writeln!(file, "{address} {name}").unwrap();
        let seen = fs::read_to_string("/etc/hosts").unwrap();
        assert!(seen.contains(&format!("{address} {name}")), "/etc/hosts is not the namespace's own: {seen}");
    }
}

/// In the outer run, runs the test `test` of this test binary inside a loopback-only network
/// namespace, asserts that it passed there, and returns `None` (also when the namespace cannot be
/// made: then it prints why the test is skipped). In that inner run, returns `Some`.
pub fn isolated(test: &str) -> Option<Inside> {
    if let Some(hosts) = std::env::var_os(INNER) {
        let interfaces = interfaces();
        assert_eq!(interfaces, ["lo"], "{INNER} is set but this is not a loopback-only network namespace");
        let hosts = PathBuf::from(hosts);
        assert_eq!(
            fs::read_to_string("/etc/hosts").ok(),
            fs::read_to_string(&hosts).ok(),
            "/etc/hosts is not the namespace's own"
        );
        return Some(Inside { hosts });
    }
    let hosts = std::env::temp_dir().join(format!("edge-relay-netns-hosts-{}-{test}", std::process::id()));
    fs::write(&hosts, "127.0.0.1 localhost\n::1 localhost\n").unwrap();
    if let Err(why) = can_isolate(&hosts) {
        let _ = fs::remove_file(&hosts);
        eprintln!("skipped: {test} needs a network namespace with only loopback, and {why}");
        return None;
    }
    let output = in_namespace(&hosts)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INNER, &hosts)
        .output()
        .expect("unshare did not start");
    let _ = fs::remove_file(&hosts);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(output.status.success(), "{test} failed in its network namespace ({})", output.status);
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{test} did not run in its network namespace (no `1 passed` in its output)"
    );
    None
}

/// `unshare` of a new network and mount namespace, where `lo` is brought up and `hosts` is
/// bind-mounted on /etc/hosts before the command given by the next arguments is executed. The
/// mounts are private to the namespace (util-linux's default), so the machine's /etc/hosts is
/// untouched.
fn in_namespace(hosts: &Path) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--net", "--mount", "--", "sh", "-c"])
        .arg(r#"hosts=$0 && ip link set lo up && mount --bind "$hosts" /etc/hosts && exec "$@""#)
        .arg(hosts);
    command
}

/// Why this machine cannot make the namespace, if it cannot.
fn can_isolate(hosts: &Path) -> Result<(), String> {
    for (tool, package) in [("unshare", "util-linux"), ("mount", "util-linux"), ("ip", "iproute2")] {
        if !on_path(tool) {
            return Err(format!("`{tool}` ({package}) is not on PATH"));
        }
    }
    let probe = in_namespace(hosts).arg("true").output().map_err(|e| format!("`unshare` did not start: {e}"))?;
    if !probe.status.success() {
        let why = String::from_utf8_lossy(&probe.stderr);
        return Err(format!(
            "`unshare --net --mount` with `ip link set lo up` and a bind mount failed here (it needs root \
             or CAP_SYS_ADMIN): {}",
            why.trim()
        ));
    }
    Ok(())
}

fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(OsStr::new(tool))))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The network interfaces of this process's namespace.
fn interfaces() -> Vec<String> {
    let table = fs::read_to_string("/proc/net/dev").unwrap_or_default();
    table.lines().skip(2).filter_map(|line| line.split(':').next()).map(|name| name.trim().to_string()).collect()
}
