//! A headless Chromium driven through the DevTools protocol over its websocket: Debian's
//! `chromium` (`/usr/bin/chromium`, or `$SSNE_CHROMIUM`), never a browser a driver downloads.
//! A machine without it fails these tests; they do not skip.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The Chromium binary.
fn chromium() -> String {
    std::env::var("SSNE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// One browser with one page, whose events are collected as they arrive.
pub(crate) struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every event of the page's session, in order.
    pub(crate) events: Vec<Value>,
}

impl Browser {
    /// Starts Chromium headless on a fresh profile, opens a page of `width` x `height` CSS
    /// pixels and enables the domains whose events the tests read (Runtime, Log, Network, Page).
    pub(crate) fn launch(width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("a temp dir for the browser profile");
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start {} ({err}); install it with `apt-get install -y --no-install-recommends chromium`",
                    chromium()
                )
            });
        // Chromium prints the websocket address on stderr; the rest of stderr is drained by the
        // same thread so that the browser never blocks on a full pipe.
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = sender.send(line[at..].trim().to_owned());
                }
            }
        });
        let url = match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(err) => {
                let _ = child.kill();
                panic!("{} printed no DevTools address within 60 s ({err})", chromium());
            }
        };
        let (socket, _) = tungstenite::connect(url.as_str()).expect("connecting to the DevTools websocket");
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("a read timeout");
        }
        let mut browser = Browser {
            child,
            _profile: profile,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        browser.session = attached["sessionId"].as_str().expect("a session id").to_owned();
        for domain in ["Runtime", "Log", "Network", "Page"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        browser
    }

    /// Sends one command (to the page once attached) and returns its result; protocol errors panic.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|err| panic!("sending {method}: {err}"));
        loop {
            let reply = match self.socket.read() {
                Ok(Message::Text(text)) => serde_json::from_str::<Value>(text.as_str()).expect("DevTools sends JSON"),
                Ok(_) => continue,
                Err(err) => panic!("waiting for the answer to {method}: {err}"),
            };
            if reply["id"].as_u64() == Some(id) {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    /// The value of a JavaScript expression (promises awaited); an exception fails the test.
    pub(crate) fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(details) = result.get("exceptionDetails") {
            panic!("{expression} threw: {details}");
        }
        result["result"]["value"].clone()
    }

    /// Opens `path` and waits until the page says it is ready and has drawn a frame.
    pub(crate) fn open(&mut self, path: &Path) -> String {
        let url = format!("file://{}", path.canonicalize().expect("the page exists").display());
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("window.__report && window.__report.ready && window.__report.frames > 0");
        url
    }

    /// Polls a JavaScript condition until it holds (30 s at most).
    pub(crate) fn wait_for(&mut self, condition: &str) {
        let start = Instant::now();
        while self.eval(&format!("!!({condition})")) != json!(true) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{condition} did not become true within 30 s; events: {:?}",
                self.events
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A mouse event at CSS pixel (x, y) of the viewport, with the left button held for presses,
    /// releases and drags.
    pub(crate) fn mouse(&mut self, kind: &str, x: f64, y: f64, pressed: bool) {
        let mut params = json!({ "type": kind, "x": x, "y": y, "button": "none", "buttons": 0 });
        if pressed || kind != "mouseMoved" {
            params["button"] = json!("left");
            params["buttons"] = json!(if kind == "mouseReleased" { 0 } else { 1 });
            params["clickCount"] = json!(1);
        }
        self.call("Input.dispatchMouseEvent", params);
    }

    /// The page as a PNG.
    pub(crate) fn screenshot(&mut self) -> Vec<u8> {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        decode_base64(shot["data"].as_str().expect("screenshot data"))
    }

    /// Every problem the page reported: exceptions, console errors and warnings, log errors.
    pub(crate) fn problems(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => true,
                Some("Runtime.consoleAPICalled") => {
                    matches!(e["params"]["type"].as_str(), Some("error" | "warning" | "assert"))
                }
                Some("Log.entryAdded") => matches!(e["params"]["entry"]["level"].as_str(), Some("error" | "warning")),
                _ => false,
            })
            .cloned()
            .collect()
    }

    /// The URL of every request the page made.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| e["params"]["request"]["url"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the screenshot's encoding).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
