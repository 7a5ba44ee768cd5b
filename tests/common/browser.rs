//! Headless Chromium for the browser tests, and a bare HTTP GET.
//!
//! The browser is `EXMC_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on
//! the PATH. Without one the tests skip with a visible message, unless
//! `EXMC_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs Debian's `chromium`): then a
//! missing browser fails them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A headless browser.
pub struct Browser {
    exe: PathBuf,
    profile: PathBuf,
}

/// What one page load left: the DOM after its scripts ran, and every console message.
pub struct Load {
    pub dom: String,
    pub console: Vec<String>,
}

impl Browser {
    /// The browser, or `None` (after a visible skip message) when there is none and it is not
    /// required.
    pub fn find(test: &str) -> Option<Browser> {
        let candidates: Vec<PathBuf> = match std::env::var_os("EXMC_CHROMIUM") {
            Some(p) => vec![PathBuf::from(p)],
            None => ["chromium", "chromium-browser", "google-chrome"].iter().map(PathBuf::from).collect(),
        };
        let exe = candidates
            .into_iter()
            .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
        let Some(exe) = exe else {
            assert!(
                std::env::var("EXMC_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "{test}: EXMC_REQUIRE_BROWSER=1 but no chromium was found"
            );
            super::skip(test, "no chromium on the PATH (set EXMC_CHROMIUM)");
            return None;
        };
        let profile = std::env::temp_dir().join(format!("exmc-chromium-{}-{test}", std::process::id()));
        Some(Browser { exe, profile })
    }

    fn command(&self, virtual_ms: u32) -> Command {
        let mut c = Command::new(&self.exe);
        c.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
            .arg("--hide-scrollbars")
            .args(["--enable-logging=stderr", "--v=0"])
            .arg(format!("--user-data-dir={}", self.profile.display()))
            .arg(format!("--virtual-time-budget={virtual_ms}"));
        c
    }

    /// Loads `url`, lets its scripts run for `virtual_ms` of virtual time, and returns the DOM
    /// and the console messages (any level: the pages under test log nothing, so every
    /// message is a fault).
    pub fn load(&self, url: &str, virtual_ms: u32) -> Load {
        let out = self.command(virtual_ms).arg("--dump-dom").arg(url).output().expect("chromium runs");
        let log = String::from_utf8_lossy(&out.stderr);
        Load {
            dom: String::from_utf8_lossy(&out.stdout).into_owned(),
            console: log.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect(),
        }
    }

    /// Saves a screenshot of `url` (after `virtual_ms` of virtual time) as PNG at `path`.
    pub fn screenshot(&self, url: &str, virtual_ms: u32, path: &Path) {
        let out = self
            .command(virtual_ms)
            .arg(format!("--screenshot={}", path.display()))
            .arg("--window-size=1300,1800")
            .arg(url)
            .output()
            .expect("chromium runs");
        assert!(out.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&out.stderr));
        let png = std::fs::read(path).expect("the screenshot was written");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "not a full PNG: {} bytes",
            png.len()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `GET http://host:port/path`: the status code and body, or `None` when nothing listens.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// The number in `data-iterations="N"` on the page's body.
pub fn iterations(dom: &str) -> u64 {
    let at = dom.find("data-iterations=\"").expect("the page has data-iterations") + 17;
    dom[at..].split('"').next().unwrap().parse().expect("a number")
}
