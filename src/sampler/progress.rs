//! Progress bars on stderr (one per chain: draws, divergences, step size); hidden when stderr
//! is not a terminal or when disabled.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per chain (none at all when hidden).
pub struct Progress {
    bars: Vec<ProgressBar>,
    _multi: Option<MultiProgress>,
}

impl Progress {
    /// Bars for `chains` chains of `total` iterations each; hidden unless `enabled` and stderr
    /// is a terminal.
    pub fn new(chains: usize, total: usize, enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bars: Vec::new(), _multi: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("chain {prefix:>3} [{bar:30}] {pos:>6}/{len:6} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bars = (0..chains)
            .map(|c| {
                let b = multi.add(ProgressBar::new(total as u64));
                b.set_style(style.clone());
                b.set_prefix(c.to_string());
                b
            })
            .collect();
        Progress { bars, _multi: Some(multi) }
    }

    /// Records one finished iteration of `chain`.
    pub fn update(&self, chain: usize, divergences: usize, step_size: f64, tuning: bool) {
        let Some(b) = self.bars.get(chain) else { return };
        b.inc(1);
        if b.position().is_multiple_of(16) || b.length() == Some(b.position()) {
            let phase = if tuning { "warmup" } else { "sampling" };
            b.set_message(format!("{phase} div {divergences} step {step_size:.3}"));
        }
    }

    /// Sets `chain`'s bar to `position` (of its length) with a message.
    pub fn set(&self, chain: usize, position: u64, message: String) {
        let Some(b) = self.bars.get(chain) else { return };
        b.set_position(position);
        b.set_message(message);
    }

    /// Finishes all bars.
    pub fn finish(&self) {
        self.bars.iter().for_each(ProgressBar::finish);
    }
}
