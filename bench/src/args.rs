//! `--name value` arguments for the benchmark binaries.

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed arguments.
#[derive(Debug, Default)]
pub struct Args(HashMap<String, String>);

impl Args {
    /// Parses `std::env::args()`.
    pub fn from_env() -> Args {
        let mut map = HashMap::new();
        let mut args = std::env::args().skip(1).peekable();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                eprintln!("ignoring stray argument {arg:?}");
                continue;
            };
            let value = match args.peek() {
                Some(next) if !next.starts_with("--") => args.next().unwrap_or_default(),
                _ => "true".to_owned(),
            };
            map.insert(name.to_owned(), value);
        }
        Args(map)
    }

    /// The string value of `--name`.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The string value of `--name`; exits with a message when it is missing.
    pub fn require(&self, name: &str) -> &str {
        self.str(name).unwrap_or_else(|| {
            eprintln!("missing --{name} (see --help)");
            std::process::exit(2)
        })
    }

    /// `--name` parsed, or `default` (exits with a message when it does not parse).
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> T {
        match self.0.get(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("invalid --{name} {v:?}");
                std::process::exit(2)
            }),
        }
    }
}
