//! Hand-rolled argument parsing (no clap: xtask should compile fast).

use std::path::PathBuf;

use anyhow::{Context, bail};

/// The usage text of `cargo xtask help`.
pub const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  fetch-mnist           download MNIST into data/mnist/ (verified; skips files already there)
  fetch-fashion-mnist   download Fashion-MNIST into data/fashion-mnist/
  make-large            write a large image set made from an MNIST-style folder
  tidy                  check crate layering and module docs
  help                  show this text

fetch options:
  --dest DIR      put the files in DIR instead of data/<dataset>/
  --mirror URL    try this base URL before the built-in mirrors (repeatable)
  --from DIR      import the files from a local folder instead of downloading
                  (e.g. /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist)
  --quiet         print nothing but errors, draw no progress bar

make-large options:
  --rows N        rows to write (required): every training image in turn, the first copy as
                  it is, each later copy rotated (up to 12 degrees) and shifted (up to 2 pixels)
  --out FILE      the images (required): FILE.npy (n x 28 x 28, labels in FILE.labels.npy) or an
                  IDX name such as large-images-idx3-ubyte (labels in large-labels-idx1-ubyte)
  --from DIR      the source folder [default: data/fashion-mnist]
  --seed S        seeds the rotations and shifts [default: 0]
  --dtype T       NPY values: f32 (pixels / 255, as the IDX loader reads them) or u8 [default: f32]
  --quiet         print nothing but errors, draw no progress bar";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `fetch-mnist`.
    FetchMnist(FetchArgs),
    /// `fetch-fashion-mnist`.
    FetchFashionMnist(FetchArgs),
    /// `make-large`.
    MakeLarge(LargeArgs),
    /// `tidy`.
    Tidy,
    /// `help`, `--help`, `-h` or no task.
    Help,
}

/// Options of the fetch tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchArgs {
    /// `--dest DIR`.
    pub dest: Option<PathBuf>,
    /// `--mirror URL`, in the order given.
    pub mirrors: Vec<String>,
    /// `--from DIR`.
    pub from: Option<PathBuf>,
    /// `--quiet`.
    pub quiet: bool,
}

/// Options of `make-large`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeArgs {
    /// `--rows N`.
    pub rows: usize,
    /// `--out FILE`.
    pub out: PathBuf,
    /// `--from DIR`.
    pub from: Option<PathBuf>,
    /// `--seed S`.
    pub seed: u64,
    /// `--dtype u8` (else f32), for NPY.
    pub u8_values: bool,
    /// `--quiet`.
    pub quiet: bool,
}

/// Parses the arguments after the program name.
///
/// # Errors
///
/// An unknown task or option, a missing option value, or `--from` together with `--mirror`.
pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Command> {
    let mut args = args.into_iter();
    let Some(task) = args.next() else {
        return Ok(Command::Help);
    };
    let rest: Vec<String> = args.collect();
    let no_options = |command: Command| {
        if let Some(extra) = rest.first() {
            bail!("`{task}` takes no options, got `{extra}`");
        }
        Ok(command)
    };
    match task.as_str() {
        "fetch-mnist" => Ok(Command::FetchMnist(parse_fetch(rest.clone())?)),
        "fetch-fashion-mnist" => Ok(Command::FetchFashionMnist(parse_fetch(rest.clone())?)),
        "make-large" => Ok(Command::MakeLarge(parse_large(rest.clone())?)),
        "tidy" => no_options(Command::Tidy),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// `--flag=value` as the flag and its inline value; any other argument as itself.
/// Both `--flag value` and `--flag=value` are accepted.
fn split_flag(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
        _ => (arg.to_owned(), None),
    }
}

/// The value of `flag`: its inline `=value`, else the next argument.
fn flag_value(flag: &str, inline: &Option<String>, args: &mut impl Iterator<Item = String>) -> anyhow::Result<String> {
    inline
        .clone()
        .or_else(|| args.next())
        .with_context(|| format!("`{flag}` needs a value"))
}

fn parse_fetch(args: Vec<String>) -> anyhow::Result<FetchArgs> {
    let mut fetch = FetchArgs::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let mut value = || flag_value(&flag, &inline, &mut args);
        match flag.as_str() {
            "--dest" => fetch.dest = Some(PathBuf::from(value()?)),
            "--mirror" => fetch.mirrors.push(value()?),
            "--from" => fetch.from = Some(PathBuf::from(value()?)),
            "--quiet" | "-q" if inline.is_none() => fetch.quiet = true,
            _ => bail!("unknown option `{arg}`\n\n{USAGE}"),
        }
    }
    if fetch.from.is_some() && !fetch.mirrors.is_empty() {
        bail!("`--from` imports from a folder and `--mirror` downloads: give one or the other");
    }
    Ok(fetch)
}

fn parse_large(args: Vec<String>) -> anyhow::Result<LargeArgs> {
    let (mut rows, mut out, mut from, mut seed, mut u8_values, mut quiet) = (None, None, None, 0, false, false);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let mut value = || flag_value(&flag, &inline, &mut args);
        match flag.as_str() {
            "--rows" => {
                let text = value()?;
                let n: usize = text
                    .replace('_', "")
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .with_context(|| format!("--rows {text}: give a positive number of rows"))?;
                rows = Some(n);
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "--from" => from = Some(PathBuf::from(value()?)),
            "--seed" => {
                let text = value()?;
                seed = text
                    .parse()
                    .with_context(|| format!("--seed {text}: give a non-negative integer"))?;
            }
            "--dtype" => match value()?.as_str() {
                "f32" => u8_values = false,
                "u8" => u8_values = true,
                other => bail!("--dtype {other}: choose f32 or u8"),
            },
            "--quiet" | "-q" if inline.is_none() => quiet = true,
            _ => bail!("unknown option `{arg}`\n\n{USAGE}"),
        }
    }
    Ok(LargeArgs {
        rows: rows.context("make-large needs --rows N")?,
        out: out.context("make-large needs --out FILE")?,
        from,
        seed,
        u8_values,
        quiet,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{Command, FetchArgs, parse};

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn fetch_options() {
        let parsed = parse(args(
            "fetch-mnist --dest /tmp/m --mirror http://a/ --mirror=http://b/ --quiet",
        ))
        .unwrap();
        let expected = FetchArgs {
            dest: Some(PathBuf::from("/tmp/m")),
            mirrors: vec!["http://a/".into(), "http://b/".into()],
            from: None,
            quiet: true,
        };
        assert_eq!(parsed, Command::FetchMnist(expected));
        let parsed = parse(args("fetch-fashion-mnist --from /usr/share/datasets/fashion-mnist")).unwrap();
        assert!(matches!(
            parsed,
            Command::FetchFashionMnist(FetchArgs { from: Some(_), .. })
        ));
    }

    #[test]
    fn tasks_and_errors() {
        assert_eq!(parse(args("")).unwrap(), Command::Help);
        assert_eq!(parse(args("help")).unwrap(), Command::Help);
        assert_eq!(parse(args("tidy")).unwrap(), Command::Tidy);
        assert!(parse(args("tidy --fix")).is_err());
        assert!(
            parse(args("build"))
                .unwrap_err()
                .to_string()
                .contains("unknown task `build`")
        );
        assert!(
            parse(args("fetch-mnist --dest"))
                .unwrap_err()
                .to_string()
                .contains("needs a value")
        );
        assert!(parse(args("fetch-mnist --fast")).is_err());
        assert!(parse(args("fetch-mnist --from d --mirror http://a/")).is_err());
    }
}
