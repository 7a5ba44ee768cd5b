//! The live view's HTTP server (tiny_http, one thread): `/` is the page, `/state.json` the
//! current snapshot; anything else is 404. Dropping the [`Server`] stops the thread and
//! closes the socket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, Method, Response};

use super::board::Board;

/// The page: one self-contained file (inline script and style, nothing fetched but the
/// snapshot).
const PAGE: &str = include_str!("page.html");
/// How long the server waits for a request before it sums what the sampler handed over.
const IDLE: Duration = Duration::from_millis(100);

/// A running server.
pub(super) struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Binds `addr` and starts answering from `board`'s snapshots.
    pub fn start(addr: &str, board: Arc<Mutex<Option<Arc<Board>>>>) -> Result<Server, String> {
        let http = tiny_http::Server::http(addr).map_err(|e| e.to_string())?;
        let local = http.server_addr().to_ip().ok_or_else(|| "not an IP address".to_string())?;
        let http = Arc::new(http);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (http, stop) = (Arc::clone(&http), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("exmc-live".into())
                .spawn(move || serve(&http, &stop, &board))
                .map_err(|e| e.to_string())?
        };
        Ok(Server { http, addr: local, stop, thread: Some(thread) })
    }

    /// The address bound (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header is valid")
}

/// Answers requests until stopped.
fn serve(http: &tiny_http::Server, stop: &AtomicBool, board: &Mutex<Option<Arc<Board>>>) {
    while !stop.load(Ordering::Acquire) {
        let current = || board.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let req = match http.recv_timeout(IDLE) {
            Ok(Some(r)) => r,
            Ok(None) => {
                // Sum what the sampler handed over, so that it does not pile up unread.
                if let Some(b) = current() {
                    b.idle();
                }
                continue;
            }
            Err(_) => break,
        };
        let path = req.url().split('?').next().unwrap_or("");
        let response = match (req.method(), path) {
            (Method::Get, "/") => {
                Response::from_string(PAGE).with_header(header("Content-Type", "text/html; charset=utf-8"))
            }
            (Method::Get, "/state.json") => {
                let json = current().map_or_else(|| r#"{"status":"waiting"}"#.to_string(), |b| b.json());
                Response::from_string(json)
                    .with_header(header("Content-Type", "application/json"))
                    .with_header(header("Cache-Control", "no-store"))
            }
            _ => Response::from_string("not found").with_status_code(404),
        };
        // A client that went away is not the sampler's problem.
        let _ = req.respond(response);
        if let Some(b) = current() {
            b.idle();
        }
    }
}
