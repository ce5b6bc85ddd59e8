//! Ctrl-C. While training runs it asks the training observer to stop after the current step, so
//! the command can say where it stopped and how to resume (the library never sees the signal).
//! At any other time, and on a second Ctrl-C, the process quits at once with exit code 130.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a run stopped by Ctrl-C: 128 + SIGINT, as a shell reports it.
pub(crate) const EXIT_CODE: u8 = 130;

/// Whether a Ctrl-C now asks training to stop instead of quitting.
static STOPPABLE: AtomicBool = AtomicBool::new(false);
/// Whether a Ctrl-C asked training to stop.
static REQUESTED: AtomicBool = AtomicBool::new(false);
/// `--quiet`: no note when the interrupt arrives.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once, at start-up).
pub(crate) fn install(quiet: bool) {
    QUIET.store(quiet, Ordering::SeqCst);
    // Without a handler Ctrl-C keeps its default, ending the process at once: no worse than
    // before, so a failure to install one is not worth refusing to run.
    let _ = ctrlc::set_handler(on_interrupt);
}

fn on_interrupt() {
    if STOPPABLE.load(Ordering::SeqCst) && !REQUESTED.swap(true, Ordering::SeqCst) {
        if !QUIET.load(Ordering::SeqCst) {
            eprintln!("\ninterrupt: stopping after the current step (Ctrl-C again quits at once)");
        }
    } else {
        std::process::exit(i32::from(EXIT_CODE));
    }
}

/// Runs `training`, during which Ctrl-C asks it to stop (see [`requested`]).
pub(crate) fn stoppable<T>(training: impl FnOnce() -> T) -> T {
    STOPPABLE.store(true, Ordering::SeqCst);
    let out = training();
    STOPPABLE.store(false, Ordering::SeqCst);
    out
}

/// Whether Ctrl-C asked the running training to stop.
pub(crate) fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// A run stopped by Ctrl-C, with what to tell the user (printed as it is, exit code 130).
#[derive(Debug)]
pub(crate) struct Interrupted(pub(crate) String);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// This process's command line with `--resume state` in place of any `--resume` it had, quoted
/// for a POSIX shell: the command that continues an interrupted run.
pub(crate) fn resume_command(state: &Path) -> String {
    with_resume(std::env::args_os().collect(), state)
}

fn with_resume(args: Vec<OsString>, state: &Path) -> String {
    let mut words = Vec::with_capacity(args.len() + 2);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--resume" {
            args.next();
            continue;
        }
        if arg.to_string_lossy().starts_with("--resume=") {
            continue;
        }
        words.push(arg);
    }
    words.push("--resume".into());
    words.push(state.as_os_str().to_owned());
    let quoted: Vec<String> = words.iter().map(|word| shell_quote(&word.to_string_lossy())).collect();
    quoted.join(" ")
}

/// `word` as one POSIX shell word: as it is when it is plain, else in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_replaces_any_resume_and_quotes_for_the_shell() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            with_resume(
                args(&["salient-sne", "train", "--model", "m.ssne"]),
                Path::new("m.state")
            ),
            "salient-sne train --model m.ssne --resume m.state"
        );
        assert_eq!(
            with_resume(
                args(&[
                    "/bin/salient-sne",
                    "train",
                    "--resume",
                    "old",
                    "--resume=older",
                    "--data",
                    "my data.csv"
                ]),
                Path::new("it's.state")
            ),
            r"/bin/salient-sne train --data 'my data.csv' --resume 'it'\''s.state'"
        );
        assert_eq!(shell_quote(""), "''");
    }
}
