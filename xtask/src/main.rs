//! `cargo xtask`: project tasks (see `xtask/README.md`).

// A terminal tool: its output is the point.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use xtask::args::{self, Command, FetchArgs, LargeArgs};
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
        Command::MakeLarge(large_args) => make_large(large_args)?,
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

fn make_large(args: LargeArgs) -> anyhow::Result<()> {
    use xtask::large::{Layout, MakeLarge};
    let is_npy = args.out.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("npy"));
    let layout = match (is_npy, args.u8_values) {
        (true, false) => Layout::NpyF32,
        (true, true) => Layout::NpyU8,
        (false, false) => Layout::Idx,
        (false, true) => anyhow::bail!("--dtype applies to NPY output; IDX files hold bytes"),
    };
    let task = MakeLarge {
        from: args
            .from
            .unwrap_or_else(|| workspace_root().join("data").join("fashion-mnist")),
        rows: args.rows,
        out: args.out,
        seed: args.seed,
        layout,
    };
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(task.rows as u64)
    };
    let made = xtask::large::make(&task, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "wrote {} rows to {} (labels: {})",
            task.rows,
            made.images.display(),
            made.labels.display()
        );
    }
    Ok(())
}
