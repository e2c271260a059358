//! Where the HTTP component's settings come from: environment variables in the portable
//! artifact; in the Spin-native one, Spin variables first (names in lower case:
//! `relay_upstream_url`), so that secrets such as `relay_api_key` can come from Spin's secret
//! providers, then the environment.

use crate::config::Config;
use crate::error::RelayError;

#[cfg(not(any(feature = "spin", feature = "spin-via-sdk")))]
pub fn load() -> Result<Config, RelayError> {
    let environment = super::abi::environment();
    Config::read(|name| environment.iter().find(|variable| variable.name() == name).map(|variable| variable.value()))
}

#[cfg(feature = "spin")]
wit_bindgen::generate!({ path: "wit", world: "spin-variables", generate_all });

#[cfg(feature = "spin")]
fn spin_variable_value(name: &str) -> Option<alloc::string::String> {
    fermyon::spin::variables::get(name).ok()
}

#[cfg(feature = "spin-via-sdk")]
fn spin_variable_value(name: &str) -> Option<alloc::string::String> {
    spin_sdk::variables::get(name).ok()
}

#[cfg(any(feature = "spin", feature = "spin-via-sdk"))]
pub fn load() -> Result<Config, RelayError> {
    use alloc::string::String;

    // A Spin variable wins; the environment (spin.toml's `environment`) fills in the rest, so the
    // portable manifest's settings keep working with this artifact.
    let environment = super::abi::environment();
    let lookup = |name: &'static str| -> Option<&'static str> {
        let variable = String::from(name).to_ascii_lowercase();
        // The value lives as long as the instance, as every allocation does here.
        spin_variable_value(&variable)
            .filter(|value| !value.is_empty())
            .map(|value| &*value.leak())
            .or_else(|| environment.iter().find(|variable| variable.name() == name).map(|variable| variable.value()))
    };
    Config::read(lookup).map_err(|error| match error {
        RelayError::Config { setting, problem } => RelayError::Config { setting: spin_variable(setting), problem },
        other => other,
    })
}

/// The Spin variable that holds a setting, for error messages.
#[cfg(any(feature = "spin", feature = "spin-via-sdk"))]
fn spin_variable(setting: &'static str) -> &'static str {
    match setting {
        "RELAY_UPSTREAM_URL" => "relay_upstream_url",
        "RELAY_FIELDS" => "relay_fields",
        "RELAY_METHOD" => "relay_method",
        "RELAY_TIMEOUT_MS" => "relay_timeout_ms",
        "RELAY_DEADLINE_MS" => "relay_deadline_ms",
        "RELAY_MAX_REQUEST_BYTES" => "relay_max_request_bytes",
        "RELAY_MAX_RESPONSE_BYTES" => "relay_max_response_bytes",
        "RELAY_UPSTREAM_HEADERS" => "relay_upstream_headers",
        "RELAY_API_KEY" => "relay_api_key",
        "RELAY_API_KEY_HEADER" => "relay_api_key_header",
        other => other,
    }
}
