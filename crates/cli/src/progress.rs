//! Progress of long statements on standard error, only when it is a terminal.

use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use dbapi::FetchProgress;
use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a statement runs before its progress is shown (quick ones never show it).
const SHOW_AFTER: Duration = Duration::from_millis(300);

/// A progress line for one statement: rows and bytes received, rate, endpoints read and the
/// server's progress. Hidden unless standard error is a terminal (and not `--quiet`).
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: bool,
    /// Keep showing once results arrive (they go to a file or a pipe, not the terminal).
    while_writing: bool,
    rows: u64,
    bytes: u64,
}

impl Progress {
    /// A progress line; `enabled`: standard error is a terminal and progress was not turned
    /// off. With `while_writing` false (results go to the terminal), it shows only while
    /// waiting for the first batch.
    pub fn new(enabled: bool, while_writing: bool) -> Progress {
        let bar = if enabled {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("running");
        Progress {
            bar,
            start: Instant::now(),
            shown: !enabled,
            while_writing,
            rows: 0,
            bytes: 0,
        }
    }

    /// Shows the line once the statement has run for a while.
    fn reveal(&mut self) {
        if !self.shown && self.start.elapsed() >= SHOW_AFTER {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Waits for `work`, showing the line if it takes long.
    pub async fn during<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(work);
        if self.shown {
            return work.await;
        }
        tokio::select! {
            out = &mut work => out,
            () = tokio::time::sleep(SHOW_AFTER.saturating_sub(self.start.elapsed())) => {
                self.reveal();
                work.await
            }
        }
    }

    /// Counts a batch received, with the cursor's progress.
    pub fn batch(&mut self, batch: &RecordBatch, progress: FetchProgress) {
        if !self.while_writing {
            // Results go to the terminal: they show the progress themselves.
            self.shown = true;
            self.bar.finish_and_clear();
            return;
        }
        self.counted(
            self.rows + batch.num_rows() as u64,
            self.bytes + bytes(batch),
            progress,
        );
    }

    /// Shows rows and bytes done so far (e.g. read from a file being loaded).
    pub fn counted(&mut self, rows: u64, bytes: u64, progress: FetchProgress) {
        self.rows = rows;
        self.bytes = bytes;
        self.bar.set_message(describe(
            self.rows,
            self.bytes,
            self.start.elapsed(),
            progress,
        ));
        self.reveal();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The bytes of Arrow data a batch holds (its slices, not the buffers they share).
pub fn bytes(batch: &RecordBatch) -> u64 {
    batch
        .columns()
        .iter()
        .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64)
        .sum()
}

/// The progress line's text.
fn describe(rows: u64, bytes: u64, elapsed: Duration, progress: FetchProgress) -> String {
    let mut text = format!("{} rows, {}", HumanCount(rows), HumanBytes(bytes));
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        text.push_str(&format!(
            ", {} rows/s",
            HumanCount((rows as f64 / secs) as u64)
        ));
    }
    match (progress.parts_done, progress.parts_total) {
        (_, Some(total)) if total > 1 => {
            text.push_str(&format!(", endpoints {}/{total}", progress.parts_done));
        }
        (done, None) if done > 0 => text.push_str(&format!(", endpoints {done}/?")),
        _ => {}
    }
    if let Some(p) = progress.server {
        text.push_str(&format!(", server {:.0}%", p * 100.0));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_rows_bytes_rate_endpoints_and_server_progress() {
        let text = describe(
            1_500_000,
            3 * 1024 * 1024,
            Duration::from_secs(2),
            FetchProgress::new(3, Some(8), Some(0.5)),
        );
        assert_eq!(
            text,
            "1,500,000 rows, 3.00 MiB, 750,000 rows/s, endpoints 3/8, server 50%"
        );
        let text = describe(
            10,
            100,
            Duration::ZERO,
            FetchProgress::new(0, Some(1), None),
        );
        assert_eq!(text, "10 rows, 100 B");
        let text = describe(10, 100, Duration::ZERO, FetchProgress::new(2, None, None));
        assert_eq!(text, "10 rows, 100 B, endpoints 2/?");
    }
}
