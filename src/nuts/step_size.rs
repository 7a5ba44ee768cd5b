//! Dual-averaging step-size adaptation (Hoffman & Gelman 2014, as in Stan).

/// Dual-averaging settings; defaults are Stan's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DualAveragingOptions {
    /// Target mean acceptance statistic (`delta`, 0.8).
    pub target: f64,
    /// Shrinkage (`gamma`, 0.05).
    pub gamma: f64,
    /// Iteration offset (`t0`, 10).
    pub t0: f64,
    /// Decay of the averaging weights (`kappa`, 0.75).
    pub kappa: f64,
}

impl Default for DualAveragingOptions {
    fn default() -> Self {
        DualAveragingOptions { target: 0.8, gamma: 0.05, t0: 10.0, kappa: 0.75 }
    }
}

/// Dual-averaging state.
#[derive(Clone, Debug)]
pub struct DualAveraging {
    opts: DualAveragingOptions,
    mu: f64,
    s_bar: f64,
    x_bar: f64,
    counter: f64,
}

impl DualAveraging {
    /// Starts adapting around `10 · step_size`.
    pub fn new(opts: DualAveragingOptions, step_size: f64) -> DualAveraging {
        DualAveraging { opts, mu: (10.0 * step_size).ln(), s_bar: 0.0, x_bar: 0.0, counter: 0.0 }
    }

    /// Restarts around `10 · step_size` (after a mass-matrix update).
    pub fn restart(&mut self, step_size: f64) {
        *self = DualAveraging::new(self.opts, step_size);
    }

    /// Learns from one acceptance statistic; returns the next step size.
    pub fn update(&mut self, accept_stat: f64) -> f64 {
        let a = if accept_stat.is_nan() { 0.0 } else { accept_stat.min(1.0) };
        self.counter += 1.0;
        let eta = 1.0 / (self.counter + self.opts.t0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.opts.target - a);
        let root = self.counter.sqrt();
        let x = self.mu - self.s_bar * root / self.opts.gamma;
        // Stan's κ = 3/4 as two square roots (a `powf` per warmup draw per chain shows in a
        // many-chain host loop).
        let w = if self.opts.kappa == 0.75 {
            1.0 / (root * root.sqrt())
        } else {
            self.counter.powf(-self.opts.kappa)
        };
        self.x_bar = (1.0 - w) * self.x_bar + w * x;
        x.exp()
    }

    /// The final, averaged step size.
    pub fn final_step_size(&self) -> f64 {
        self.x_bar.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_to_target_on_a_monotone_response() {
        // Acceptance falls with step size as exp(-eps): the fixed point is eps = -ln(0.8).
        let mut da = DualAveraging::new(DualAveragingOptions::default(), 1.0);
        let mut eps: f64 = 1.0;
        for _ in 0..5000 {
            eps = da.update((-eps).exp());
        }
        let want = -(0.8f64).ln();
        assert!((da.final_step_size() - want).abs() < 0.01 * want, "{} vs {want}", da.final_step_size());
        assert!(eps > 0.0);
    }
}
