//! Tables taller than the terminal go through a pager, as in psql: `$DBAPI_PAGER`, else
//! `$PAGER`, else `less -SRFX` (an empty variable turns paging off). Only when results go to
//! a terminal; `\pset pager off` turns it off for the session.
//!
//! A table is held back until it is known to be taller than the terminal (then the pager
//! starts and gets it, and the rest as it arrives) or ends shorter (then it is printed as
//! usual). Quitting the pager early stops reading the result.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The pager command from the environment; `None` when paging is turned off there.
pub fn command() -> Option<String> {
    for name in ["DBAPI_PAGER", "PAGER"] {
        if let Some(value) = std::env::var_os(name) {
            let value = value.to_string_lossy().trim().to_owned();
            return Some(value).filter(|v| !v.is_empty());
        }
    }
    Some("less -SRFX".to_owned())
}

/// The terminal's height in lines, when standard output is a terminal that reports it.
pub fn terminal_height() -> Option<usize> {
    crossterm::terminal::size()
        .ok()
        .map(|(_, rows)| usize::from(rows))
        .filter(|rows| *rows > 0)
}

/// Output of one result to the terminal, through the pager once it is taller than the
/// terminal.
#[derive(Debug)]
pub struct Paged {
    command: String,
    /// Lines that fit on the screen (the prompt takes one).
    room: usize,
    held: Vec<u8>,
    lines: usize,
    pager: Option<(Child, Option<ChildStdin>)>,
    /// Set when the pager was quit before the result ended.
    quit: Arc<AtomicBool>,
    /// The pager could not start: write to the terminal.
    passthrough: bool,
}

impl Paged {
    /// Output through `command` for a terminal `height` lines tall.
    pub fn new(command: String, height: usize) -> Paged {
        Paged {
            command,
            room: height.saturating_sub(1).max(1),
            held: Vec::new(),
            lines: 0,
            pager: None,
            quit: Arc::new(AtomicBool::new(false)),
            passthrough: false,
        }
    }

    /// A flag set when the pager is quit before the result ends: reading it can stop.
    pub fn quit_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.quit)
    }

    /// Starts the pager and hands it what was held back; when it cannot start, says so and
    /// prints to the terminal instead.
    fn start(&mut self) -> std::io::Result<()> {
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let stdin = child.stdin.take();
                self.pager = Some((child, stdin));
                let held = std::mem::take(&mut self.held);
                self.send(&held)
            }
            Err(e) => {
                eprintln!(
                    "warning: cannot start the pager {:?} ({e}); \\pset pager off stops trying",
                    self.command
                );
                // The rest goes straight to the terminal, nothing held.
                self.passthrough = true;
                let mut out = std::io::stdout().lock();
                out.write_all(&std::mem::take(&mut self.held))?;
                out.flush()
            }
        }
    }

    /// Writes to the pager; once it was quit, drops the text and raises the flag.
    fn send(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let Some((_, Some(stdin))) = &mut self.pager else {
            return Ok(());
        };
        match stdin.write_all(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.quitted();
                Ok(())
            }
            other => other,
        }
    }

    /// The pager stopped reading: quit by the user (the rest is not wanted), or failed (say
    /// so: the rest is not shown).
    fn quitted(&mut self) {
        if self.quit.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some((child, stdin)) = &mut self.pager {
            drop(stdin.take());
            if let Ok(status) = child.wait()
                && !status.success()
            {
                eprintln!(
                    "warning: the pager {:?} failed ({status}); the rest of the result is not \
                     shown (\\pset pager off, or set DBAPI_PAGER)",
                    self.command
                );
            }
        }
    }

    /// Ends the result: prints what was held back (it fit on the screen), or lets the pager
    /// read to the end and waits until it is quit.
    pub fn finish(mut self) -> std::io::Result<()> {
        match self.pager.take() {
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(&self.held)?;
                out.flush()
            }
            Some((mut child, stdin)) => {
                drop(stdin);
                child.wait()?;
                Ok(())
            }
        }
    }
}

impl Write for Paged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.passthrough {
            return std::io::stdout().lock().write(buf);
        }
        if self.pager.is_some() {
            self.send(buf)?;
            return Ok(buf.len());
        }
        self.held.extend_from_slice(buf);
        self.lines += buf.iter().filter(|b| **b == b'\n').count();
        if self.lines > self.room {
            self.start()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.passthrough {
            return std::io::stdout().lock().flush();
        }
        match &mut self.pager {
            Some((_, Some(stdin))) => match stdin.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    self.quitted();
                    Ok(())
                }
                other => other,
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_held_and_tall_output_starts_the_pager() {
        let dir = std::env::temp_dir().join(format!("dbapi-pager-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let seen = dir.join("seen");
        let command = format!("cat > {}", seen.display());
        let mut short = Paged::new(command.clone(), 10);
        short.write_all(b"one\ntwo\n").unwrap();
        assert!(short.pager.is_none());
        assert_eq!(short.held, b"one\ntwo\n");
        let mut tall = Paged::new(command, 3);
        for n in 0..5 {
            writeln!(tall, "line {n}").unwrap();
        }
        assert!(tall.pager.is_some());
        tall.finish().unwrap();
        let paged = std::fs::read_to_string(&seen).unwrap();
        assert_eq!(paged, "line 0\nline 1\nline 2\nline 3\nline 4\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_pager_quit_early_raises_the_flag() {
        // One quit by its user (exits 0 without reading), one that fails (exits 3): either
        // stops the result.
        for command in ["true", "exit 3"] {
            let mut paged = Paged::new(command.to_owned(), 2);
            let quit = paged.quit_flag();
            let line = [b'x'; 1023];
            for _ in 0..1000 {
                paged.write_all(&line).unwrap();
                paged.write_all(b"\n").unwrap();
                if quit.load(Ordering::Relaxed) {
                    break;
                }
            }
            assert!(quit.load(Ordering::Relaxed), "{command}");
            paged.finish().unwrap();
        }
    }
}
