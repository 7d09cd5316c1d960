//! The terminal's echo, turned off while a secret is typed and always turned back on.

/// Echo off on standard input (a terminal) until dropped; newlines still echo, so the cursor
/// moves on after the secret.
#[derive(Debug)]
pub struct EchoOff {
    #[cfg(unix)]
    saved: nix::sys::termios::Termios,
}

#[cfg(unix)]
impl EchoOff {
    /// Turns echo off.
    ///
    /// # Errors
    /// When the terminal's settings cannot be read or changed: the secret is then not read.
    pub fn new() -> Result<EchoOff, String> {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        let refuse = |e: nix::Error| {
            format!(
                "cannot turn off the terminal's echo to read the token ({e}); set DBAPI_TOKEN \
                 instead"
            )
        };
        let saved = tcgetattr(std::io::stdin()).map_err(refuse)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        quiet.local_flags.insert(LocalFlags::ECHONL);
        tcsetattr(std::io::stdin(), SetArg::TCSANOW, &quiet).map_err(refuse)?;
        Ok(EchoOff { saved })
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        use nix::sys::termios::{SetArg, tcsetattr};
        let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

#[cfg(not(unix))]
impl EchoOff {
    /// Reading a secret without echo is implemented for Unix terminals only.
    ///
    /// # Errors
    /// Always, saying so.
    pub fn new() -> Result<EchoOff, String> {
        Err(
            "reading a token without echo is supported on Unix terminals only; set \
             DBAPI_TOKEN instead"
                .to_owned(),
        )
    }
}
