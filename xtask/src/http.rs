//! One HTTP(S) download into a file, with a progress bar.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::fetch::Ui;

/// Downloads `url` into `target` (created or truncated) and returns the number of bytes.
///
/// # Errors
///
/// Connection failures, HTTP error statuses, a body cut short (when the server announced its
/// length), and write errors; the caller removes `target`.
pub(crate) fn download(url: &str, target: &Path, ui: &Ui) -> anyhow::Result<u64> {
    let response = agent_for(url).get(url).call().map_err(|err| anyhow::anyhow!("{err}"))?;
    let bar = progress_bar(ui, response.body().content_length(), url);
    let mut body = bar.wrap_read(response.into_body().into_reader());
    let file = File::create(target).with_context(|| format!("creating {}", target.display()))?;
    let mut out = BufWriter::new(file);
    let n_bytes = std::io::copy(&mut body, &mut out).context("receiving the body")?;
    let file = out
        .into_inner()
        .map_err(|err| err.into_error())
        .context("writing the download")?;
    file.sync_all().context("syncing the download")?;
    bar.finish_and_clear();
    Ok(n_bytes)
}

/// An agent that asks for the bytes as stored (no transfer compression, so the checksum is of
/// the published file) and never proxies loopback addresses (the tests' local server).
fn agent_for(url: &str) -> ureq::Agent {
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    let loopback = ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| host.starts_with(h));
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_recv_body(Some(Duration::from_secs(30 * 60)))
        .accept_encoding("identity")
        .user_agent(concat!("salient-sne-xtask/", env!("CARGO_PKG_VERSION")));
    let config = if loopback { config.proxy(None) } else { config };
    config.build().into()
}

fn progress_bar(ui: &Ui, len: Option<u64>, url: &str) -> ProgressBar {
    if !ui.bars {
        return ProgressBar::hidden();
    }
    let name = url.rsplit('/').next().unwrap_or(url).to_owned();
    match len {
        Some(len) => {
            let style =
                ProgressStyle::with_template("{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .map(|style| style.progress_chars("=> "))
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(len).with_style(style).with_message(name)
        }
        None => ProgressBar::new_spinner().with_message(name),
    }
}

/// `mirror` joined with `file_name`, with exactly one `/` between them.
pub(crate) fn join_url(mirror: &str, file_name: &str) -> String {
    format!("{}/{file_name}", mirror.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join_url("http://a/b/", "f.gz"), "http://a/b/f.gz");
        assert_eq!(join_url("http://a/b", "f.gz"), "http://a/b/f.gz");
    }
}
