//! Command-line flags of the benchmark examples (`--name value`).

use exmc::backend::gpu::MappingChoice;

/// The value after `name`, if given.
pub fn value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// Whether the flag `name` (which takes no value) was given.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// The value after `name` parsed, or `default` when absent or unparsable.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    value(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The flags of the examples that take no value (read with [`flag`]): an argument after one
/// of them is a name, not the flag's value.
const SWITCHES: [&str; 4] = ["--bench", "--write-data", "--rust", "--no-client"];

/// The arguments that are neither flags (`--name`) nor a flag's value: names to select.
pub fn positional() -> Vec<String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let takes_value = |a: &str| a.starts_with("--") && !SWITCHES.contains(&a);
    argv.iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !takes_value(&argv[i - 1])))
        .map(|(_, a)| a.clone())
        .collect()
}

/// `--mapping auto|invocation|workgroup` (auto when absent).
pub fn mapping() -> MappingChoice {
    match value("--mapping").as_deref() {
        Some("invocation") => MappingChoice::Invocation,
        Some("workgroup") => MappingChoice::Workgroup,
        _ => MappingChoice::Auto,
    }
}
