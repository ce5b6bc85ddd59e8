//! `cargo xtask`: project tasks (see `xtask/README.md`).

// A terminal tool: its output is the point.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use xtask::args::{self, Command, FetchArgs};
use xtask::fetch::{self, FetchPlan, Source, Ui};
use xtask::{tidy, workspace_root};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    match args::parse(std::env::args().skip(1))? {
        Command::Help => println!("{}", args::USAGE),
        Command::FetchMnist(fetch_args) => fetch_task(FetchPlan::mnist, "mnist", fetch_args)?,
        Command::FetchFashionMnist(fetch_args) => fetch_task(FetchPlan::fashion_mnist, "fashion-mnist", fetch_args)?,
        Command::Tidy => {
            let violations = tidy::run(&workspace_root())?;
            if !violations.is_empty() {
                for violation in &violations {
                    eprintln!("tidy: {violation}");
                }
                eprintln!("tidy: {} violation(s)", violations.len());
                return Ok(ExitCode::FAILURE);
            }
            println!("tidy: ok");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fetch_task(plan: fn(std::path::PathBuf) -> FetchPlan, folder: &str, args: FetchArgs) -> anyhow::Result<()> {
    let dest = args.dest.unwrap_or_else(|| workspace_root().join("data").join(folder));
    let mut plan = plan(dest);
    plan.prepend_mirrors(&args.mirrors);
    let source = args.from.map_or(Source::Mirrors, Source::Dir);
    let ui = Ui::terminal(args.quiet);
    let report = fetch::run(&plan, &source, &ui)?;
    if !args.quiet {
        eprintln!("{}: {}", plan.dest.display(), report.summary());
    }
    Ok(())
}
