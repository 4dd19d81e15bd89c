//! Minimal `--flag value` parsing for the example binaries.

use std::collections::HashMap;

/// Parsed `--name value` pairs (and `--name` alone, meaning `true`).
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Parses the process arguments; exits with a usage message on `--help` or stray words.
    pub fn parse(usage: &str) -> Args {
        Args::from_args(std::env::args().skip(1)).unwrap_or_else(|err| {
            eprintln!("{err}\n\nusage: {usage}");
            std::process::exit(2);
        })
    }

    /// Parses an argument list.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut values = HashMap::new();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Err("help requested".into());
            }
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            if let Some((name, value)) = name.split_once('=') {
                values.insert(name.to_owned(), value.to_owned());
            } else if args.peek().is_some_and(|next| !next.starts_with("--")) {
                let value = args.next().unwrap_or_default();
                values.insert(name.to_owned(), value);
            } else {
                values.insert(name.to_owned(), "true".to_owned());
            }
        }
        Ok(Args { values })
    }

    /// The value of `--name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `--name`, or `default`.
    pub fn get_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    /// Whether `--name` was given as true.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true") | Some("1"))
    }
}
