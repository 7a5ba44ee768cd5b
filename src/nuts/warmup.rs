//! Stan's three-phase warmup schedule: an initial fast interval (75), slow windows starting at
//! 25 and doubling, a terminal fast interval (50), scaled down for short warmups.

/// Stan's windowed-adaptation counters (`windowed_adaptation.hpp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Windows {
    num_warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    counter: usize,
    window_size: usize,
    next_window: usize,
    /// False when warmup is too short (< 20) for metric adaptation.
    pub adapt_metric: bool,
}

impl Windows {
    /// Windows for `num_warmup` iterations with Stan's default buffers.
    pub fn new(num_warmup: usize) -> Windows {
        Windows::with_buffers(num_warmup, 75, 50, 25)
    }

    /// Windows with explicit initial buffer, terminal buffer and base window.
    pub fn with_buffers(num_warmup: usize, init: usize, term: usize, base: usize) -> Windows {
        let (mut init_buffer, mut term_buffer, mut base_window) = (init, term, base);
        let adapt_metric = num_warmup >= 20;
        if adapt_metric && init + base + term > num_warmup {
            init_buffer = (0.15 * num_warmup as f64) as usize;
            term_buffer = (0.1 * num_warmup as f64) as usize;
            base_window = num_warmup - (init_buffer + term_buffer);
        }
        Windows {
            num_warmup,
            init_buffer,
            term_buffer,
            counter: 0,
            window_size: base_window,
            next_window: init_buffer + base_window - 1,
            adapt_metric,
        }
    }

    fn in_window(&self) -> bool {
        self.counter >= self.init_buffer
            && self.counter + self.term_buffer < self.num_warmup
            && self.counter != self.num_warmup
    }

    fn window_ends(&self) -> bool {
        self.counter == self.next_window && self.counter != self.num_warmup
    }

    fn compute_next_window(&mut self) {
        let last = self.num_warmup - self.term_buffer - 1;
        if self.next_window == last {
            return;
        }
        self.window_size *= 2;
        self.next_window = self.counter + self.window_size;
        if self.next_window != last
            && self.next_window + 2 * self.window_size >= self.num_warmup - self.term_buffer
        {
            self.next_window = last;
        }
    }

    /// Iterations before the first slow window (0 when the metric is not adapted).
    pub fn init_buffer(&self) -> usize {
        if self.adapt_metric { self.init_buffer } else { 0 }
    }

    /// Advances one warmup iteration: returns `(collect this sample, a window ends here)`.
    pub fn advance(&mut self) -> (bool, bool) {
        if !self.adapt_metric {
            return (false, false);
        }
        let collect = self.in_window();
        let ends = self.window_ends();
        if ends {
            self.compute_next_window();
        }
        self.counter += 1;
        (collect, ends)
    }
}

/// The slow windows for `num_warmup` iterations as `(first, last)` iteration pairs.
pub fn schedule(num_warmup: usize) -> Vec<(usize, usize)> {
    let mut w = Windows::new(num_warmup);
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..num_warmup {
        let (collect, ends) = w.advance();
        if collect && start.is_none() {
            start = Some(i);
        }
        if ends {
            out.push((start.take().unwrap_or(i), i));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_default_windows() {
        assert_eq!(schedule(1000), vec![(75, 99), (100, 149), (150, 249), (250, 449), (450, 949)]);
    }

    #[test]
    fn short_warmup_is_scaled() {
        // 100 iterations: init 15, term 10, one window of 75.
        assert_eq!(schedule(100), vec![(15, 89)]);
        assert!(schedule(10).is_empty());
    }

    #[test]
    fn windows_for_500() {
        assert_eq!(schedule(500), vec![(75, 99), (100, 149), (150, 249), (250, 449)]);
    }
}
