//! Ctrl-C during `train`: the run says where it stopped, exits with 130, writes no model, and
//! prints the command that resumes it from its checkpoint, which does.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::{listing, path_arg};

/// A `train` run long enough to be interrupted: quick pretraining, then 100,000 fine-tuning steps.
const LONG_TRAINING: &[&str] = &[
    "train",
    "--rows",
    "0..600",
    "--pretrain-epochs",
    "2",
    "--finetune-steps",
    "100000",
    "--edges-per-step",
    "150",
    "--seed",
    "7",
];

/// A running child and its stderr, line by line.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most a minute) for a stderr line containing `text`.
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("no line with {text:?} on stderr:\n{}", self.seen.join("\n"));
    }

    /// Sends SIGINT, as Ctrl-C on a terminal does, and returns the exit status and all of stderr.
    fn interrupt(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -INT failed");
        let status = self.child.wait().expect("the child ends");
        self.seen.extend(self.lines.iter());
        (status, self.seen.join("\n"))
    }
}

fn train(dir: &Path, extra: &[&str]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_salient-sne"));
    command
        .args(LONG_TRAINING)
        .args(["--model", &path_arg(&dir.join("m.ssne"))])
        .args(extra);
    Running::start(&mut command)
}

/// The number after `word` in `text`.
fn number_after(text: &str, word: &str) -> usize {
    let rest = &text[text.find(word).unwrap_or_else(|| panic!("no {word:?} in:\n{text}")) + word.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {word:?} in:\n{text}"))
}

#[test]
fn ctrl_c_during_train_says_where_it_stopped_and_how_to_resume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("m.state");
    let mut first = train(dir.path(), &["--checkpoint", &path_arg(&state)]);
    // Fine-tuning has begun, and pretraining left a checkpoint.
    first.wait_for("affinities done");
    let (status, stderr) = first.interrupt();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: training was interrupted while fine-tuning after step "),
        "{stderr}"
    );
    assert!(stderr.contains(" of 100000; no model was written"), "{stderr}");
    // No model, no log, no temporary file: only the checkpoint.
    assert_eq!(listing(dir.path()), ["m.state"]);
    let kept_line = stderr
        .lines()
        .find(|line| line.starts_with(&format!("the checkpoint {} holds the run ", state.display())))
        .unwrap_or_else(|| panic!("no checkpoint line:\n{stderr}"));
    let kept = kept_line
        .trim_start_matches(&format!("the checkpoint {} holds the run ", state.display()))
        .trim_end_matches("; to resume it:");
    let command = stderr
        .lines()
        .skip_while(|line| *line != kept_line)
        .nth(1)
        .map(str::trim)
        .unwrap_or_else(|| panic!("no resume command:\n{stderr}"));
    assert!(
        command.starts_with(env!("CARGO_BIN_EXE_salient-sne"))
            && command.ends_with(&format!("--resume {}", state.display())),
        "{command}"
    );

    // The printed command, run by a shell as the user would paste it, continues the run.
    let mut resumed = Running::start(Command::new("sh").args(["-c", &format!("exec {command}")]));
    resumed.wait_for(&format!("resuming {kept} of the run in {}", state.display()));
    resumed.wait_for("affinities done");
    let (status, stderr) = resumed.interrupt();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let step = number_after(&stderr, "while fine-tuning after step ");
    if kept.starts_with("after fine-tuning step ") {
        assert!(step > number_after(kept, "after fine-tuning step "), "{kept}: {stderr}");
    }
    assert_eq!(listing(dir.path()), ["m.state"]);

    // Without --checkpoint there is nothing to resume, and the message says how there would be.
    let other = tempfile::tempdir().expect("temp dir");
    let mut plain = train(other.path(), &[]);
    plain.wait_for("affinities done");
    let (status, stderr) = plain.interrupt();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("no model was written\ntrain with --checkpoint FILE to be able to resume an interrupted run"),
        "{stderr}"
    );
    assert!(listing(other.path()).is_empty(), "{:?}", listing(other.path()));
}
