//! A live view of a run in the browser: [`Sampler::live`](super::Sampler::live) (or
//! [`Sampler::live_view`](super::Sampler::live_view) with a [`LiveView`] bound beforehand)
//! serves a page on a local address that updates while the chains run — per-chain progress
//! and divergences, step size and tree depth during warmup, trace and rank plots of chosen
//! variables, running R-hat and ESS.
//!
//! With many chains (thousands on a GPU) the page shows a sample of them, evenly spaced over
//! the run's chain ids, plus aggregates over all: iterations done, divergences, the spread of
//! step sizes, and a Gelman–Rubin R-hat from every chain's running mean and variance.
//!
//! The sampler's side counts each batched step's finished iterations and, now and then,
//! copies the new ones in bulk from the chains' records to a queue (see [`GroupSink`]). The
//! server's thread sums them and computes the diagnostics, at most five times a second
//! whatever the number of open pages. The server stops when the last handle to the view is dropped: at the end of
//! [`Sampler::run`](super::Sampler::run) for [`Sampler::live`](super::Sampler::live), or
//! when the caller drops its [`LiveView`] (which keeps serving the final state until then).
//!
//! ```no_run
//! use exmc::prelude::*;
//! use exmc::sampler::live::LiveView;
//! let mut m = Model::new();
//! let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
//! m.observe("x", Normal::new(mu, 1.0), &[1.0, 2.0, 1.5])?;
//! let view = LiveView::bind("127.0.0.1:0")?.vars(&["mu"]);
//! println!("open {}", view.url());
//! let fit = Sampler::new(&m).live_view(view.clone()).run()?;
//! # Ok::<(), exmc::Error>(())
//! ```

mod board;
mod server;

use std::sync::{Arc, Mutex};

use board::{Board, Element, Inbox, RunState};

use crate::error::{Error, Result};
use crate::sampler::sink::{Batch, ChainSink, GroupSink, RunInfo, TraceWriter};

/// Tracked elements when no variable is chosen: the first ones in model order.
const DEFAULT_ELEMENTS: usize = 4;
/// Most tracked elements (each is one trace and one rank plot on the page).
const MAX_ELEMENTS: usize = 16;
/// Chains whose draws the page plots, by default.
const DEFAULT_SHOWN: usize = 8;

/// What the page shows.
#[derive(Clone, Debug)]
struct Options {
    vars: Vec<String>,
    shown: usize,
}

/// A live view: an HTTP server on a local address and the state of the run it shows. Clones
/// share the server; it stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct LiveView {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    addr: String,
    url: String,
    opts: Mutex<Options>,
    /// The board of the run being shown (replaced when the view is given to another run).
    board: Arc<Mutex<Option<Arc<Board>>>>,
    /// Held for its lifetime: dropping it stops the server.
    _server: server::Server,
}

impl LiveView {
    /// Starts serving on `addr` (`"127.0.0.1:8080"`; port 0 picks a free one, see
    /// [`LiveView::url`]). Fails with [`Error::Live`] when the address cannot be bound.
    pub fn bind(addr: &str) -> Result<LiveView> {
        let board = Arc::new(Mutex::new(None));
        let server = server::Server::start(addr, Arc::clone(&board))
            .map_err(|reason| Error::Live { addr: addr.to_string(), reason })?;
        let url = format!("http://{}/", server.local_addr());
        Ok(LiveView {
            inner: Arc::new(Inner {
                addr: addr.to_string(),
                url,
                opts: Mutex::new(Options { vars: Vec::new(), shown: DEFAULT_SHOWN }),
                board,
                _server: server,
            }),
        })
    }

    /// The page's address, e.g. `http://127.0.0.1:41234/`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Variables to plot (all their elements, up to 16 in all). By default the first four
    /// elements of the trace, in model order. An unknown name fails the run with
    /// [`Error::Live`].
    pub fn vars(self, names: &[&str]) -> LiveView {
        self.options().vars = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// How many chains the page plots and lists (default 8; at least 1), evenly spaced over
    /// the run's chains. Aggregates always cover every chain.
    pub fn chains_shown(self, n: usize) -> LiveView {
        self.options().shown = n.max(1);
        self
    }

    fn options(&self) -> std::sync::MutexGuard<'_, Options> {
        self.inner.opts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the end of the run the view shows (the page stops polling).
    pub(crate) fn end(&self, cancelled: bool, failed: bool) {
        let state = match (failed, cancelled) {
            (true, _) => RunState::Failed,
            (false, true) => RunState::Cancelled,
            (false, false) => RunState::Finished,
        };
        if let Some(b) = self.inner.board.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.end(state);
        }
    }

    /// The tracked elements of `run`.
    fn elements(&self, run: &RunInfo<'_>) -> Result<Vec<Element>> {
        let vars = self.options().vars.clone();
        let mut out = Vec::new();
        let chosen: Vec<_> = if vars.is_empty() {
            run.vars.iter().collect()
        } else {
            let mut v = Vec::with_capacity(vars.len());
            for name in &vars {
                let Some(var) = run.vars.iter().find(|v| &v.name == name) else {
                    let known: Vec<&str> = run.vars.iter().map(|v| v.name.as_str()).collect();
                    return Err(Error::Live {
                        addr: self.inner.addr.clone(),
                        reason: format!("no trace variable `{name}` (the run has: {})", known.join(", ")),
                    });
                };
                v.push(var);
            }
            v
        };
        let cap = if vars.is_empty() { DEFAULT_ELEMENTS } else { MAX_ELEMENTS };
        'vars: for var in chosen {
            for e in 0..var.size() {
                if out.len() == cap {
                    break 'vars;
                }
                out.push(Element { label: var.element_name(e), offset: var.offset + e });
            }
        }
        Ok(out)
    }
}

impl TraceWriter for LiveView {
    fn open(&self, run: &RunInfo<'_>) -> Result<Vec<Box<dyn ChainSink>>> {
        let elements = self.elements(run)?;
        let board = Arc::new(Board::new(run, elements, self.options().shown));
        *self.inner.board.lock().unwrap_or_else(|e| e.into_inner()) = Some(board);
        // Fed per group of chains (see `group`), not per chain.
        Ok(Vec::new())
    }

    fn group(&self, _run: &RunInfo<'_>, chain_ids: &[usize]) -> Result<Option<Box<dyn GroupSink>>> {
        let board = self.inner.board.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Ok(board.and_then(|board| {
            let inbox = board.inbox(chain_ids)?;
            Some(Box::new(LiveGroup { board, inbox }) as Box<dyn GroupSink>)
        }))
    }
}

/// A group of chains' feed into the board: it counts each batched step's iterations and hands
/// them over in bulk, read from the chains' records.
struct LiveGroup {
    board: Arc<Board>,
    inbox: Inbox,
}

impl GroupSink for LiveGroup {
    fn step(&mut self, batch: &Batch<'_>) -> Result<()> {
        self.inbox.note(batch);
        if self.board.due(&self.inbox) {
            self.board.hand_over(&mut self.inbox, batch);
        }
        Ok(())
    }

    fn close(&mut self, batch: &Batch<'_>) -> Result<()> {
        self.inbox.note(batch);
        self.board.hand_over(&mut self.inbox, batch);
        Ok(())
    }
}
