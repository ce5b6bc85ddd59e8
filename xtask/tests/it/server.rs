//! A tiny HTTP/1.1 server on 127.0.0.1 for the download tests: fixed routes, one request per
//! connection, a log of the paths asked for; it stops when dropped or after two minutes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server answers on a path.
#[derive(Clone)]
pub(crate) enum Route {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status with an empty body.
    Status(u16),
    /// 200 announcing the whole length, then only the first half and a closed connection.
    CutShort(Vec<u8>),
}

pub(crate) struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Longest a test server lives, whatever happens to its test.
const LIFETIME: Duration = Duration::from_secs(120);

impl Server {
    /// Serves `routes` (path -> answer); any other path gets 404.
    pub(crate) fn start(routes: HashMap<String, Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || serve(&listener, &routes, &requests, &stop))
        };
        Server {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL of `prefix`, e.g. `http://127.0.0.1:PORT/good/`.
    pub(crate) fn url(&self, prefix: &str) -> String {
        format!("http://{}/{prefix}/", self.addr)
    }

    /// The paths requested so far, in order.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("no test thread panics while holding the log")
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: &TcpListener, routes: &HashMap<String, Route>, requests: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let deadline = Instant::now() + LIFETIME;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client that hangs up mid-answer is the client's business.
                let _ = answer(stream, routes, requests);
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
}

fn answer(stream: TcpStream, routes: &HashMap<String, Route>, requests: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers, bounded: a request has few.
    for _ in 0..100 {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
    requests
        .lock()
        .expect("no test thread panics while holding the log")
        .push(path.clone());
    let mut out = stream;
    match routes.get(&path).cloned().unwrap_or(Route::Status(404)) {
        Route::Body(body) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        Route::Status(status) => {
            write!(
                out,
                "HTTP/1.1 {status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
        }
        Route::CutShort(body) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body[..body.len() / 2])?;
        }
    }
    out.flush()?;
    out.shutdown(std::net::Shutdown::Both)
}
