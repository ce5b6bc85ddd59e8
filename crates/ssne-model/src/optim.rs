//! Adam (with optional decoupled weight decay) and learning-rate schedules.

use ssne_tensor::ndarray::{Array2, ArrayView2, Zip};

use crate::Result;
use crate::error::config_error;

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    /// Base learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub epsilon: f32,
    /// Decoupled weight decay (AdamW); 0 turns it off.
    pub weight_decay: f32,
    /// How the learning rate changes over the run.
    pub schedule: LrSchedule,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            schedule: LrSchedule::Constant,
        }
    }
}

impl AdamConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] naming the field.
    pub fn validate(&self, prefix: &'static str) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(config_error(prefix, format!("lr {}", self.lr), "a learning rate > 0"));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(config_error(prefix, format!("{name} {b}"), "betas in [0, 1)"));
            }
        }
        if !(self.epsilon > 0.0 && self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(config_error(
                prefix,
                format!("epsilon {} weight_decay {}", self.epsilon, self.weight_decay),
                "epsilon > 0, weight decay >= 0",
            ));
        }
        Ok(())
    }
}

/// Learning-rate schedule over a run of known length.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LrSchedule {
    /// The base rate throughout.
    Constant,
    /// Cosine decay from the base rate to `final_fraction` of it.
    Cosine {
        /// Fraction of the base rate reached at the last step.
        final_fraction: f32,
    },
    /// Linear decay from the base rate to 0 at the end of the run (contrastive-ne's schedule):
    /// step `s` of `T` runs at `1 - s / T` of the base rate.
    Linear,
}

impl LrSchedule {
    /// The multiplier of the base rate at `step` of `total_steps`.
    pub fn factor(self, step: usize, total_steps: usize) -> f32 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine { final_fraction } => {
                let t = if total_steps <= 1 {
                    0.0
                } else {
                    step as f64 / (total_steps - 1) as f64
                };
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos());
                (f64::from(final_fraction) + (1.0 - f64::from(final_fraction)) * cos) as f32
            }
            LrSchedule::Linear => (1.0 - step as f64 / total_steps.max(1) as f64).max(0.0) as f32,
        }
    }
}

/// Adam's moments and step count, detached from any run so a checkpoint can
/// store them and a resumed run can continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    /// Updates taken so far (drives the bias correction).
    pub step: u64,
    /// First moments, one matrix per parameter.
    pub first: Vec<Array2<f32>>,
    /// Second moments, one matrix per parameter.
    pub second: Vec<Array2<f32>>,
}

impl AdamState {
    /// Whether both moments hold one matrix per parameter of the given shapes, in order.
    pub fn fits(&self, shapes: &[(usize, usize)]) -> bool {
        let fits = |m: &[Array2<f32>]| m.len() == shapes.len() && m.iter().zip(shapes).all(|(a, &s)| a.dim() == s);
        fits(&self.first) && fits(&self.second)
    }
}

/// Adam state for a fixed list of parameter matrices.
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    step: u64,
    first: Vec<Array2<f32>>,
    second: Vec<Array2<f32>>,
}

impl Adam {
    /// Zero state for parameters of the given shapes.
    pub fn new(config: AdamConfig, shapes: &[(usize, usize)]) -> Self {
        Adam {
            config,
            step: 0,
            first: shapes.iter().map(|&s| Array2::zeros(s)).collect(),
            second: shapes.iter().map(|&s| Array2::zeros(s)).collect(),
        }
    }

    /// A copy of the moments and step count.
    pub fn state(&self) -> AdamState {
        AdamState {
            step: self.step,
            first: self.first.clone(),
            second: self.second.clone(),
        }
    }

    /// Continues from `state`, which must hold one moment pair per parameter of the given shapes.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] when the stored moments do not fit `shapes`.
    pub fn from_state(config: AdamConfig, state: AdamState, shapes: &[(usize, usize)]) -> Result<Self> {
        if !state.fits(shapes) {
            return Err(config_error(
                "adam state",
                format!("{} moment matrices", state.first.len()),
                format!("one per parameter, shaped {shapes:?}"),
            ));
        }
        Ok(Adam {
            config,
            step: state.step,
            first: state.first,
            second: state.second,
        })
    }

    /// One update at learning rate `lr`; parameters whose gradient is `None` are left alone
    /// (their moments do not decay either, so freezing and unfreezing is clean).
    pub fn step(&mut self, params: &mut [&mut Array2<f32>], grads: &[Option<ArrayView2<'_, f32>>], lr: f32) {
        self.step += 1;
        let c = self.config;
        let bias1 = 1.0 - f64::from(c.beta1).powi(self.step.min(i32::MAX as u64) as i32);
        let bias2 = 1.0 - f64::from(c.beta2).powi(self.step.min(i32::MAX as u64) as i32);
        let step_size = (f64::from(lr) / bias1) as f32;
        let bias2_sqrt = bias2.sqrt() as f32;
        let decay = 1.0 - lr * c.weight_decay;
        for (idx, param) in params.iter_mut().enumerate() {
            let Some(Some(grad)) = grads.get(idx) else { continue };
            let (m, v) = (&mut self.first[idx], &mut self.second[idx]);
            Zip::from(&mut **param).and(m).and(v).and(grad).for_each(|p, m, v, &g| {
                *m = c.beta1 * *m + (1.0 - c.beta1) * g;
                *v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
                let denom = v.sqrt() / bias2_sqrt + c.epsilon;
                *p = *p * decay - step_size * *m / denom;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn first_adam_step_moves_each_weight_by_lr_against_the_gradient_sign() {
        // With bias correction, step 1 gives m_hat = g, v_hat = g^2, so the update is lr * sign(g).
        let mut w = array![[1.0_f32, -2.0]];
        let g = array![[0.5_f32, -3.0]];
        let mut adam = Adam::new(AdamConfig::default(), &[(1, 2)]);
        adam.step(&mut [&mut w], &[Some(g.view())], 0.1);
        assert!((w[[0, 0]] - 0.9).abs() < 1e-6);
        assert!((w[[0, 1]] + 1.9).abs() < 1e-6);
    }

    #[test]
    fn cosine_schedule_runs_from_one_to_the_final_fraction() {
        let s = LrSchedule::Cosine { final_fraction: 0.1 };
        assert!((s.factor(0, 11) - 1.0).abs() < 1e-6);
        assert!((s.factor(10, 11) - 0.1).abs() < 1e-6);
        assert!((s.factor(5, 11) - 0.55).abs() < 1e-6);
        assert_eq!(LrSchedule::Constant.factor(3, 10), 1.0);
    }

    #[test]
    fn linear_schedule_falls_to_zero_at_the_end_of_the_run() {
        let s = LrSchedule::Linear;
        assert_eq!(s.factor(0, 10), 1.0);
        assert!((s.factor(5, 10) - 0.5).abs() < 1e-7);
        // The last step still moves (1/T of the rate); past the run nothing does.
        assert!((s.factor(9, 10) - 0.1).abs() < 1e-7);
        assert_eq!(s.factor(10, 10), 0.0);
        assert_eq!(s.factor(12, 10), 0.0);
        assert_eq!(s.factor(0, 0), 1.0);
    }
}
