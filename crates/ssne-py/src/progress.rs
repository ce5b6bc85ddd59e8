//! What a fit tells Python while the GIL is released: progress lines on `sys.stderr` when verbose,
//! and Ctrl-C, which stops training at the end of the current epoch (reporting period).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use ssne_model::{EpochSummary, ModelError, Stage, TrainObserver, TrainingState};

/// Writes one line per stage and epoch to Python's `sys.stderr` (so notebooks show it) when verbose.
pub(crate) struct Progress {
    verbose: bool,
}

impl Progress {
    /// A progress writer, silent unless `verbose`.
    pub(crate) fn new(verbose: bool) -> Self {
        Progress { verbose }
    }

    fn say(&self, line: String) {
        if !self.verbose {
            return;
        }
        Python::attach(|py| {
            // Progress is best effort: a closed stderr must not fail the fit.
            if let Ok(stderr) = py.import("sys").and_then(|sys| sys.getattr("stderr")) {
                let _ = stderr.call_method1("write", (line + "\n",));
                let _ = stderr.call_method0("flush");
            }
        });
    }
}

impl TrainObserver for Progress {
    fn stage_started(&mut self, stage: Stage, total: usize) {
        self.say(format!("salient-sne: {} ({total} steps)", stage.name()));
    }

    fn epoch_finished(&mut self, s: &EpochSummary) {
        let accuracy = s.accuracy.map_or_else(String::new, |a| format!(", accuracy {a:.4}"));
        self.say(format!(
            "salient-sne: {} epoch {}: loss {:.5}{accuracy} ({:.1} s)",
            s.stage.name(),
            s.epoch + 1,
            s.loss,
            s.seconds
        ));
    }

    fn unconverged_rows(&mut self, n_rows: usize, n_total: usize) {
        self.say(format!(
            "salient-sne: the perplexity search did not converge for {n_rows} of {n_total} rows"
        ));
    }
}

/// A checkpoint sink that keeps nothing and stops training (the library stops on a sink's error)
/// once `stop` is set, which [`run_interruptibly`] does on Ctrl-C.
pub(crate) struct StopFlag<'a>(pub(crate) &'a AtomicBool);

impl ssne_model::TrainingStateSink for StopFlag<'_> {
    fn save(&mut self, _state: &TrainingState) -> ssne_model::Result<()> {
        if self.0.load(Ordering::Relaxed) {
            return Err(ModelError::ResumeMismatch {
                what: "interrupted by Ctrl-C".into(),
            });
        }
        Ok(())
    }
}

/// Runs `work(stop)` on another thread with the GIL released while this (the calling) thread
/// checks for Ctrl-C every 50 ms: Python handles signals only on its main thread, and rayon's
/// workers are not it. On `KeyboardInterrupt` it sets `stop` and returns the exception once the
/// work has stopped.
pub(crate) fn run_interruptibly<T: Send>(py: Python<'_>, work: impl FnOnce(&AtomicBool) -> T + Send) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let mut raised = None;
    let out = py.detach(|| {
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| work(&stop));
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                if raised.is_none()
                    && let Err(err) = Python::attach(|py| py.check_signals())
                {
                    raised = Some(err);
                    stop.store(true, Ordering::Relaxed);
                }
            }
            handle.join()
        })
    });
    let out = out.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match raised {
        Some(err) => Err(err),
        None => Ok(out),
    }
}
