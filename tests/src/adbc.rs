//! What the integration tests and the benchmarks share for the ADBC driver: where the ADBC
//! drivers are installed, scratch folders, and a PostgreSQL server of the test's own. Each
//! says why it failed (a missing driver or PostgreSQL, and how to get it) as an error: the
//! tests unwrap it, the benchmarks report it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What failed, said for a person.
pub type Failed = String;

fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Failed {
    move |e| format!("{what}: {e}")
}

/// The manifest of an installed ADBC driver (`sqlite`, `postgresql`).
pub fn manifest(name: &str) -> Result<PathBuf, Failed> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/adbc/drivers")
        .join(format!("{name}.toml"));
    path.canonicalize().map_err(|_| {
        format!(
            "the ADBC {name} driver is not installed at {}: run `python3 .ci/adbc_drivers.py`",
            path.display()
        )
    })
}

/// A new empty folder under the system's temporary folder.
pub fn scratch(what: &str) -> Result<PathBuf, Failed> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dbapi-it-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io(dir.display()))?;
    Ok(dir)
}

/// The URL of a SQLite database file.
pub fn sqlite_url(db: &Path) -> Result<String, Failed> {
    Ok(format!(
        "adbc:{}?uri=file:{}",
        manifest("sqlite")?.display(),
        db.display()
    ))
}

/// A PostgreSQL server of its own: a new cluster in a temporary folder, listening on
/// 127.0.0.1 on a free port, with password authentication over TCP. Stopped when dropped.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Runs commands as this user (PostgreSQL refuses to run as root).
    user: Option<String>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The password of the `postgres` user.
    pub password: String,
}

impl std::fmt::Debug for Postgres {
    /// The port and folder, not the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Creates the cluster and starts the server.
    pub fn start() -> Result<Postgres, Failed> {
        let bin = pg_bin()?;
        let dir = scratch("pg")?;
        let user = is_root().then(|| "postgres".to_owned());
        let password = format!("pw-{}-s3cret", std::process::id());
        std::fs::write(dir.join("pwfile"), &password).map_err(io("the password file"))?;
        if let Some(user) = &user {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(&dir)
                .status()
                .map_err(io("chown"))?;
            if !status.success() {
                return Err(format!("chown {} {}: {status}", user, dir.display()));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free port"))?
            .port();
        let pg = Postgres {
            dir,
            bin,
            user,
            port,
            password,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--pwfile",
                &pg.dir.join("pwfile").display().to_string(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.dir.display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &pg.data(),
                "-l",
                &pg.dir.join("log").display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        )?;
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// One of PostgreSQL's programs, run as the server's user.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), Failed> {
        let output = self
            .command(program)
            .args(args)
            .output()
            .map_err(io(program))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }

    /// The `uri` of a database on this server, with the password.
    pub fn uri(&self, password: &str) -> String {
        format!(
            "postgresql://postgres:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// The `adbc:` URL of this server through the ADBC PostgreSQL driver.
    pub fn url(&self) -> Result<String, Failed> {
        Ok(format!(
            "adbc:{}?uri={}",
            manifest("postgresql")?.display(),
            crate::url_encode(&self.uri(&self.password))
        ))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether this process runs as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The folder of PostgreSQL's server programs (Debian keeps them out of `PATH`).
pub fn pg_bin() -> Result<PathBuf, Failed> {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().ok_or_else(|| {
        "PostgreSQL's server programs (initdb, pg_ctl) not found: install Debian's \
         `postgresql` package (.ci/run does)"
            .to_owned()
    })
}
