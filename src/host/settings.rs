//! Where the HTTP component's settings come from: environment variables in the portable
//! artifact; in the Spin-native one, Spin variables first (names in lower case:
//! `relay_upstream_url`), so that secrets such as `relay_api_key` can come from Spin's secret
//! providers, then the environment.

use crate::config::Config;
use crate::error::RelayError;

#[cfg(not(any(feature = "spin", feature = "spin-via-sdk")))]
pub fn load() -> Result<Config, RelayError> {
    let environment = super::abi::environment();
    Config::read(|name| lookup(environment, name))
}

/// One setting's value. Out of line: inlined into each of the settings' reads it cost 38 bytes.
#[cfg(not(any(feature = "spin", feature = "spin-via-sdk")))]
#[inline(never)]
fn lookup(environment: &'static [super::abi::Variable], name: &str) -> Option<&'static str> {
    environment.iter().find(|variable| variable.name() == name).map(|variable| variable.value())
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
        // Named as the Spin variable that holds it; the string lives as long as the instance.
        RelayError::Config { setting, problem } => {
            RelayError::Config { setting: String::from(setting).to_ascii_lowercase().leak(), problem }
        }
        other => other,
    })
}
