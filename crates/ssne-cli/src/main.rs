//! `salient-sne`: the command line that trains, embeds, explains and plots parametric t-SNE maps.
//!
//! The binary is glue (ripgrep's `crates/core` is the model): clap parses the flags
//! ([`cli::Cli`]), each command turns them into library configurations in one place, calls
//! `ssne-data`, `ssne-model` and `ssne-saliency`, shows progress and writes files atomically.
//! No math lives here.

// The binary reports to its user on stdout and stderr on purpose; the workspace lints warn on
// printing because the libraries must never do it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod data_args;
mod hints;
mod interrupt;
mod output;
mod plot;
mod progress;
mod staged_folder;
mod train_args;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(stopped) = err.downcast_ref::<interrupt::Interrupted>() {
                eprintln!("{stopped}");
                return ExitCode::from(interrupt::EXIT_CODE);
            }
            let interrupted = err
                .chain()
                .any(|cause| matches!(cause.downcast_ref(), Some(ssne_model::ModelError::Interrupted { .. })));
            if interrupted {
                eprintln!("{}; nothing was written", hints::one_line(&err));
                return ExitCode::from(interrupt::EXIT_CODE);
            }
            // One line: the context chain joined by ": ", then what to do about it.
            let message = hints::one_line(&err);
            match hints::fix_for(&err) {
                Some(fix) => eprintln!("error: {message}; {fix}"),
                None => eprintln!("error: {message}"),
            }
            ExitCode::FAILURE
        }
    }
}
