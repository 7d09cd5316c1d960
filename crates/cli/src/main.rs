//! `dbapi`: a command-line SQL client for any registered dbapi driver.
//!
//! ```text
//! dbapi flightsql://localhost:8181?tls=false -c "SELECT * FROM readings LIMIT 5"
//! dbapi "$URL" -f script.sql --format csv --out result.csv
//! echo "SELECT 1;" | dbapi "$URL" --format json
//! dbapi --demo -c "SELECT sensor, avg(temperature) FROM readings GROUP BY sensor"
//! ```
//!
//! The URL comes from the argument or `DATABASE_URL`; `--password` reads a token from the
//! terminal without echo (or from `DBAPI_TOKEN`). Errors go to standard error, one line and
//! the causes. The exit status says how the run ended, as psql's does: 0 done, 1 a fatal
//! error of the client's own (arguments, files, URL), 2 the connection refused or lost, 3 an
//! error in a statement of a script.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use arrow::record_batch::RecordBatch;
use clap::Parser;
use dbapi::{Connection, Cursor, Params, Value};

use crate::output::{Format, ResultWriter, TableStyle};
use crate::progress::Progress;

mod complete;
mod copy;
mod demo;
mod meta;
mod output;
mod pager;
mod profile;
mod progress;
mod script;
mod terminal;

/// A SQL client for any dbapi driver (Flight SQL built in).
#[derive(Debug, Parser)]
#[command(name = "dbapi", version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The connection URL (e.g. `flightsql://host:8181?tls=false&token=...`); defaults to
    /// the `DATABASE_URL` environment variable.
    #[arg(env = "DATABASE_URL", hide_env_values = true)]
    url: Option<String>,
    /// Run this SQL (may be given several times; each may hold several statements).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    commands: Vec<String>,
    /// Run the SQL statements of this file.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The output format.
    /// The output format [default: table].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write results to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// ASCII table borders.
    #[arg(long)]
    ascii: bool,
    /// One block per row (`column | value`), for wide rows.
    #[arg(short = 'x', long)]
    expanded: bool,
    /// How NULL is written in tables and CSV (default: `NULL` in tables, an empty field in
    /// CSV; JSON writes `null`).
    #[arg(long, value_name = "TEXT")]
    null: Option<String>,
    /// A parameter, `NAME=VALUE` (`1=42` for `$1`, `name=alice` for `$name`); typed by the
    /// server's parameter schema.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Read a token (password) from the terminal, without echo; `DBAPI_TOKEN` gives it
    /// without asking.
    #[arg(long)]
    password: bool,
    /// Connect with a profile of the config file (`$DBAPI_CONFIG`, else
    /// `~/.config/dbapi/config.toml`): its URL, token command and output defaults.
    #[arg(long, value_name = "NAME", env = "DBAPI_PROFILE")]
    profile: Option<String>,
    /// Start the bundled demo server in-process and connect to it (the `demo` feature).
    #[arg(long, conflicts_with = "url")]
    demo: bool,
    /// Print nothing but results and errors.
    #[arg(short, long)]
    quiet: bool,
    /// Errors with their details (gRPC code, kind), and the driver's log down to `info`
    /// (`RUST_LOG` chooses otherwise, e.g. `RUST_LOG=dbapi_flightsql=debug`).
    #[arg(short, long)]
    verbose: bool,
    /// Print how long each statement took (on standard error), as `\timing` does.
    #[arg(long)]
    timing: bool,
    /// Let `adbc:` URLs (here and in `\c`) load a driver from an absolute path and take
    /// `entrypoint=`: loading a driver runs its code. Without it, drivers are loaded by name
    /// only (ADBC manifests on ADBC_DRIVER_PATH and the ADBC driver folders).
    #[arg(long)]
    allow_driver_paths: bool,
    /// Go on after a failed statement in a script (the exit status still says one failed).
    #[arg(long)]
    continue_on_error: bool,
    /// Rows only: no column names and no row count (tables, CSV).
    #[arg(short = 't', long)]
    tuples_only: bool,
    /// Show at most this many rows of each result, then say that rows were left out.
    #[arg(long, value_name = "N")]
    max_rows: Option<u64>,
}

/// What else `dbapi` does besides running SQL.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print a completion script for a shell (e.g. `dbapi completions bash > ~/.local/share/bash-completion/completions/dbapi`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// An error of the client itself (usage, files), or of the driver.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    // Usage errors exit 1 (clap's own code, 2, says "connection" here); help and version 0.
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Completions { shell }) = args.command {
        use clap::CommandFactory;
        clap_complete::generate(shell, &mut Args::command(), "dbapi", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    install_log(args.verbose, args.quiet);
    let verbose = args.verbose;
    match runtime.block_on(run(args)) {
        Ok(ended) => ended.exit_code(),
        Err(e) => {
            report(e.as_ref(), verbose);
            if is_connection_error(e.as_ref()) {
                Ended::ConnectionLost.exit_code()
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Sends the driver's log (`tracing`) to standard error: warnings (e.g. that a certificate is
/// not verified, or that credentials go unencrypted) by default, errors only with `--quiet`,
/// down to `info` with `--verbose`; `RUST_LOG` (`target=level,...`) decides when set.
fn install_log(verbose: bool, quiet: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let default = Targets::new().with_default(if quiet {
        LevelFilter::ERROR
    } else if verbose {
        LevelFilter::INFO
    } else {
        LevelFilter::WARN
    });
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => spec.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG={spec:?} ignored: {e}");
            default
        }),
        _ => default,
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

/// How a run ended; the exit status says which, as psql's does: 0 done, 1 a fatal error of
/// the client's own (arguments, files, URL), 2 the connection refused or lost, 3 an error in a
/// statement of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ended {
    /// Every statement ran (or `\q` said to stop).
    Done,
    /// A statement failed and stopped the script.
    ScriptError,
    /// The connection was refused or lost.
    ConnectionLost,
}

impl Ended {
    /// How a script stopped by `error` ended.
    fn by(error: &(dyn std::error::Error + 'static)) -> Ended {
        if is_connection_error(error) {
            Ended::ConnectionLost
        } else {
            Ended::ScriptError
        }
    }

    fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Ended::Done => 0,
            Ended::ConnectionLost => 2,
            Ended::ScriptError => 3,
        })
    }
}

/// Whether an error, or one of its causes, says the connection was refused or lost.
fn is_connection_error(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| {
        e.downcast_ref::<dbapi::Error>()
            .is_some_and(dbapi::Error::is_connection)
    })
}

/// Prints an error on standard error: one line, then each of its causes not already said;
/// control characters in them (a server's message may hold any) escaped.
fn report(error: &(dyn std::error::Error + 'static), verbose: bool) {
    eprint!("{}", rendered(error, verbose));
}

/// An error as [`report`] prints it: `error: …` (with its kind and code when `verbose`), then
/// a `caused by:` line for each cause not already said.
fn rendered(error: &(dyn std::error::Error + 'static), verbose: bool) -> String {
    use crate::output::shown;
    let lines = dbapi::Report::new(error).lines();
    let message = error.to_string();
    let mut text = match error.downcast_ref::<dbapi::Error>() {
        Some(e) if verbose => {
            let code = e.code().map(|c| format!(", code {c}")).unwrap_or_default();
            format!(
                "error: {} (kind {:?}{})\n",
                shown(&message),
                e.kind(),
                shown(&code)
            )
        }
        _ => format!("error: {}\n", shown(&message)),
    };
    for cause in lines.iter().skip(1) {
        text.push_str(&format!("  caused by: {}\n", shown(cause)));
    }
    text
}

/// Where the statements come from.
fn statements(args: &Args) -> Result<Option<Vec<String>>, BoxError> {
    let mut out = Vec::new();
    for command in &args.commands {
        if command.trim_start().starts_with('\\') {
            out.push(command.trim().to_owned());
            continue;
        }
        let (mut statements, rest) = script::split(command);
        out.append(&mut statements);
        if !rest.is_empty() {
            out.push(rest.trim().to_owned());
        }
    }
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let (mut statements, rest) = script::split_script(&text);
        out.append(&mut statements);
        if !rest.trim().is_empty() {
            out.push(rest.trim().to_owned());
        }
    }
    Ok((!args.commands.is_empty() || !args.files.is_empty()).then_some(out))
}

/// The parameters of `--param`: positional when every name is a number, else named.
fn params(args: &Args) -> Result<Params, BoxError> {
    if args.params.is_empty() {
        return Ok(Params::None);
    }
    let mut pairs = Vec::new();
    for param in &args.params {
        let (name, value) = param
            .split_once('=')
            .ok_or_else(|| format!("--param {param:?} is not NAME=VALUE"))?;
        pairs.push((
            name.trim_start_matches(['$', ':']).to_owned(),
            value.to_owned(),
        ));
    }
    if pairs.iter().all(|(n, _)| n.parse::<usize>().is_ok()) {
        let mut positional: Vec<(usize, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.parse().unwrap_or(0), v))
            .collect();
        positional.sort_by_key(|(n, _)| *n);
        for (i, (n, _)) in positional.iter().enumerate() {
            if *n != i + 1 {
                return Err(format!(
                    "positional parameters must be numbered 1, 2, 3...: parameter {} is missing",
                    i + 1
                )
                .into());
            }
        }
        Ok(Params::from(
            positional
                .into_iter()
                .map(|(_, v)| Value::String(v))
                .collect::<Vec<_>>(),
        ))
    } else {
        Ok(Params::Named(
            pairs
                .into_iter()
                .map(|(n, v)| (n, Value::String(v)))
                .collect(),
        ))
    }
}

/// The URL with the token of `--password` / `DBAPI_TOKEN` added.
async fn url_with_token(
    url: String,
    args: &Args,
    token_command: Option<&str>,
) -> Result<String, BoxError> {
    let token = if let Some(command) = token_command {
        profile::run_token_command(command)?
    } else if args.password {
        match std::env::var("DBAPI_TOKEN") {
            Ok(t) if !t.is_empty() => t,
            _ => read_secret("token: ").await?,
        }
    } else {
        return Ok(url);
    };
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}token={encoded}"))
}

/// Reads a line from standard input without echo when it is a terminal (a pipe is read as it
/// is). Ctrl-C at the prompt restores the terminal and ends the run with an error; a terminal
/// whose echo cannot be turned off is refused rather than shown the secret.
async fn read_secret(prompt: &str) -> Result<String, BoxError> {
    // Echo goes off before the prompt shows, so that nothing typed after it is echoed.
    let quiet = if std::io::stdin().is_terminal() {
        Some(terminal::EchoOff::new()?)
    } else {
        None
    };
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    // A thread of its own, not the runtime's blocking pool: after Ctrl-C nothing waits for it.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = tokio::select! {
        read = rx => read.map_err(|_| "the token prompt ended without an answer")??,
        _ = tokio::signal::ctrl_c() => {
            drop(quiet);
            eprintln!();
            return Err("cancelled at the token prompt".into());
        }
    };
    drop(quiet);
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn run(mut args: Args) -> Result<Ended, BoxError> {
    dbapi_flightsql::register();
    if args.allow_driver_paths {
        dbapi::register(std::sync::Arc::new(
            dbapi_adbc::AdbcDriver::new()
                .allow_paths()
                .allow_entrypoints(),
        ));
    } else {
        dbapi_adbc::register();
    }
    // A profile gives what the command line did not: output defaults, the URL (over
    // DATABASE_URL: the profile was asked for), the token.
    let profile = match &args.profile {
        Some(name) => profile::load(name)?,
        None => profile::Profile::default(),
    };
    args.format = args.format.or(profile.format);
    args.null = args.null.take().or(profile.null);
    args.ascii |= profile.ascii.unwrap_or(false);
    args.expanded |= profile.expanded.unwrap_or(false);
    if profile.url.is_some() {
        args.url = profile.url;
    }
    let demo = if args.demo {
        Some(demo::start().await?)
    } else {
        None
    };
    let url = match (&demo, &args.url) {
        (Some(server), _) => server.url(),
        (None, Some(url)) => url.clone(),
        (None, None) => {
            return Err(
                "no connection URL: give one as the first argument, set DATABASE_URL, \
                        or try --demo"
                    .into(),
            );
        }
    };
    let url = url_with_token(url, &args, profile.token_command.as_deref()).await?;
    let params = params(&args)?;
    let conn = dbapi::connect(&url).await?;
    if !args.quiet
        && let Some(server) = &demo
    {
        eprintln!(
            "demo server on {} (tables: readings, shop.customers, shop.orders, ...)",
            server.url()
        );
    }
    let mut session = Session::new(&args, conn, dbapi::redact_url(&url))?;
    let ended = match statements(&args)? {
        Some(list) => session.run_all(&list, &params).await,
        None if std::io::stdin().is_terminal() => session.repl(&params).await?,
        None => session.run_stdin(&params).await?,
    };
    let closed = session.conn.close().await;
    session.out.flush()?;
    if ended == Ended::Done {
        closed?;
    }
    Ok(ended)
}

/// Runs statements and writes their results.
struct Session {
    /// The connection (`\\c` replaces it).
    conn: Box<dyn Connection>,
    format: Format,
    style: TableStyle,
    quiet: bool,
    verbose: bool,
    timing: bool,
    /// Whether a script goes on after a failed statement.
    continue_on_error: bool,
    /// The variables of `\set`, interpolated into SQL (`:NAME`, `:'NAME'`, `:"NAME"`).
    vars: std::collections::BTreeMap<String, String>,
    /// How deep `\i` files are nested now.
    include_depth: usize,
    /// The last error, with its kind and code (`\errverbose`).
    last_error: Option<String>,
    /// The last SQL statement run (`\watch` runs it again).
    last_sql: Option<String>,
    /// The most rows shown of one result.
    max_rows: Option<u64>,
    /// The URL with secrets hidden, for `\conninfo`.
    shown_url: String,
    out: Box<dyn Write + Send>,
    /// Whether results go to the terminal (standard output, a terminal).
    out_is_terminal: bool,
    /// Whether to show progress on standard error (a terminal, and not `--quiet`).
    show_progress: bool,
    /// The pager command (`None`: paging off in the environment).
    pager: Option<String>,
    /// Whether tall tables go through the pager (`\\pset pager`).
    pager_on: bool,
    /// The names Tab completes, in the shell (`\\refresh` and `\\c` fetch them again).
    names: Option<std::sync::Arc<std::sync::RwLock<complete::Names>>>,
}

impl Session {
    fn new(args: &Args, conn: Box<dyn Connection>, shown_url: String) -> Result<Session, BoxError> {
        let out: Box<dyn Write + Send> = match &args.out {
            Some(path) => Box::new(std::io::BufWriter::new(output::create_file(path)?)),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(Session {
            conn,
            format: args.format.unwrap_or(Format::Table),
            style: TableStyle {
                ascii: args.ascii,
                expanded: args.expanded,
                null: args.null.clone(),
                tuples_only: args.tuples_only,
            },
            quiet: args.quiet,
            verbose: args.verbose,
            timing: args.timing,
            continue_on_error: args.continue_on_error,
            vars: std::collections::BTreeMap::new(),
            include_depth: 0,
            last_error: None,
            last_sql: None,
            max_rows: args.max_rows,
            shown_url,
            out,
            out_is_terminal: args.out.is_none() && std::io::stdout().is_terminal(),
            show_progress: !args.quiet && std::io::stderr().is_terminal(),
            pager: pager::command(),
            pager_on: true,
            names: None,
        })
    }

    /// Runs every statement, stopping at the first error (reported); whether all succeeded.
    async fn run_all(&mut self, statements: &[String], params: &Params) -> Ended {
        let mut ended = Ended::Done;
        for sql in statements {
            match self.run_one(sql, params, false).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let _ = self.out.flush();
                    self.report(e.as_ref());
                    ended = ended.max(Ended::by(e.as_ref()));
                    if !self.continue_on_error {
                        break;
                    }
                }
            }
        }
        ended
    }

    /// The interactive shell: line editing, history kept in a file, statements ending at `;`
    /// (several lines each), meta-commands; Ctrl-C cancels the running statement (on the
    /// server too, where the driver can) or clears the line being typed, Ctrl-D quits.
    async fn repl(&mut self, params: &Params) -> Result<Ended, BoxError> {
        use rustyline::error::ReadlineError;
        let names = std::sync::Arc::default();
        self.names = Some(std::sync::Arc::clone(&names));
        if let Err(e) = self.refresh_names(false).await {
            eprintln!(
                "warning: Tab completes no names: {}",
                output::shown(&e.to_string())
            );
        }
        let mut editor =
            rustyline::Editor::<complete::SqlHelper, rustyline::history::FileHistory>::new()?;
        editor.set_helper(Some(complete::SqlHelper::new(names)));
        let history = history_file();
        if let Some(path) = &history {
            // A missing history file is a first session.
            let _ = editor.load_history(path);
        }
        if !self.quiet {
            eprintln!("end statements with ';'; \\? lists meta-commands; Ctrl-D quits");
        }
        let mut lines = script::Lines::default();
        loop {
            let prompt = if lines.is_open() {
                "   ...> "
            } else {
                "dbapi> "
            };
            let line = tokio::task::block_in_place(|| editor.readline(prompt));
            let line = match line {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    lines.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            };
            let is_meta = !lines.is_open() && line.trim_start().starts_with('\\');
            let statements = lines.push(&line);
            // As bash's `ignorespace`: a line starting with a space stays out of the history.
            if !line.trim().is_empty() && !line.starts_with(' ') {
                let entry = if is_meta {
                    line.trim().to_owned()
                } else {
                    line.clone()
                };
                let _ = editor.add_history_entry(entry);
                if let Some(path) = &history {
                    // History is best effort: a read-only home still gets a shell.
                    let _ = editor.append_history(path);
                }
            }
            for (n, sql) in statements.iter().enumerate() {
                match self.run_one(sql, params, true).await {
                    Ok(true) => {}
                    Ok(false) => return Ok(Ended::Done),
                    Err(e) => {
                        self.out.flush()?;
                        self.report(e.as_ref());
                        // The rest of what was typed (or pasted) with the failed statement is
                        // not run: it may have depended on it.
                        if lines.is_open() || n + 1 < statements.len() {
                            eprintln!("(the rest of the input after the error was not run)");
                        }
                        lines.clear();
                        break;
                    }
                }
                self.out.flush()?;
            }
        }
        Ok(Ended::Done)
    }

    /// Reads a script from standard input (not a terminal), running each statement as its
    /// `;` arrives and a meta-command as its line does; the text after the last `;` runs at
    /// the end of the input. The first error stops the script.
    async fn run_stdin(&mut self, params: &Params) -> Result<Ended, BoxError> {
        let mut ended = Ended::Done;
        let mut lines = script::Lines::default();
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            let n = stdin.lock().read_line(&mut line)?;
            let statements = if n == 0 {
                lines.take_rest().into_iter().collect()
            } else {
                lines.push(&line)
            };
            for sql in statements {
                match self.run_one(&sql, params, false).await {
                    Ok(true) => {}
                    Ok(false) => return Ok(Ended::Done),
                    Err(e) => {
                        self.out.flush()?;
                        self.report(e.as_ref());
                        ended = ended.max(Ended::by(e.as_ref()));
                        if !self.continue_on_error {
                            return Ok(ended);
                        }
                    }
                }
            }
            self.out.flush()?;
            if n == 0 {
                return Ok(ended);
            }
        }
    }

    /// Runs one statement (or meta-command) and writes its result (or its row count);
    /// whether to go on (`\q` says not to). With `ctrl_c_cancels` (the shell), Ctrl-C cancels
    /// the statement, and its query on the server; elsewhere Ctrl-C keeps its default effect.
    async fn run_one(
        &mut self,
        sql: &str,
        params: &Params,
        ctrl_c_cancels: bool,
    ) -> Result<bool, BoxError> {
        if sql.starts_with('\\') {
            return self.meta(sql, params, ctrl_c_cancels).await;
        }
        self.last_sql = Some(sql.to_owned());
        let interpolated = script::interpolate(sql, &self.vars);
        self.execute(&interpolated, params, ctrl_c_cancels, None)
            .await?;
        Ok(true)
    }

    /// Runs one SQL statement and writes its result to the session's output, or to the file of
    /// a `\copy ... TO` (`target`); the number of rows written. With `ctrl_c_cancels`, Ctrl-C
    /// cancels it (on the server too).
    async fn execute(
        &mut self,
        sql: &str,
        params: &Params,
        ctrl_c_cancels: bool,
        target: Option<&mut CopyTarget>,
    ) -> Result<u64, BoxError> {
        let start = std::time::Instant::now();
        let mut cursor = self.conn.cursor()?;
        let token = cursor.cancel_token().ok().filter(|_| ctrl_c_cancels);
        let outcome = {
            let work = self.run_cursor(cursor.as_mut(), sql, params, target);
            tokio::pin!(work);
            match &token {
                None => work.await,
                Some(token) => loop {
                    tokio::select! {
                        outcome = &mut work => break outcome,
                        _ = tokio::signal::ctrl_c() => {
                            eprintln!("cancelling...");
                            let _ = token.cancel().await;
                        }
                    }
                },
            }
        };
        let rows = outcome?;
        if self.timing {
            eprintln!("Time: {:.3} ms", start.elapsed().as_secs_f64() * 1e3);
        }
        Ok(rows)
    }

    /// Writes one batch as a whole result.
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), BoxError> {
        let schema = batch.schema();
        let mut paged = self.pager()?;
        let out: &mut (dyn Write + Send) = match &mut paged {
            Some(paged) => paged,
            None => &mut self.out,
        };
        let mut writer = ResultWriter::new(out, self.format, &schema, &self.style)?;
        writer.write(batch)?;
        writer.finish(&schema)?;
        if let Some(paged) = paged {
            tokio::task::block_in_place(|| paged.finish())?;
        }
        Ok(())
    }

    /// Output through the pager for the next result, when it goes to the terminal as a table
    /// and paging is on.
    fn pager(&mut self) -> std::io::Result<Option<pager::Paged>> {
        if !(self.out_is_terminal && self.pager_on && self.format == Format::Table) {
            return Ok(None);
        }
        let (Some(command), Some(height)) = (&self.pager, pager::terminal_height()) else {
            return Ok(None);
        };
        // What was written before goes out first.
        self.out.flush()?;
        Ok(Some(pager::Paged::new(command.clone(), height)))
    }

    /// Says what a statement without rows did: with the results in a table, on standard error
    /// in the other formats (whose output stays data only).
    fn say(&mut self, text: &str) -> std::io::Result<()> {
        match self.format {
            Format::Table => writeln!(self.out, "{text}"),
            _ => {
                eprintln!("{text}");
                Ok(())
            }
        }
    }

    /// Reports an error and keeps it, in full, for `\errverbose`.
    fn report(&mut self, error: &(dyn std::error::Error + 'static)) {
        report(error, self.verbose);
        self.last_error = Some(rendered(error, true));
    }

    /// `\i FILE`: runs the statements of a file (its meta-commands too), stopping at the first
    /// error unless `--continue-on-error`; whether to go on (a `\q` in the file says not to).
    async fn include(
        &mut self,
        file: &str,
        params: &Params,
        ctrl_c_cancels: bool,
    ) -> Result<bool, BoxError> {
        /// Files including files, at most this deep (a file including itself stops here).
        const MAX_DEPTH: usize = 16;
        if self.include_depth >= MAX_DEPTH {
            return Err(format!("\\i {file}: files nested more than {MAX_DEPTH} deep").into());
        }
        let text = std::fs::read_to_string(file).map_err(|e| format!("\\i {file}: {e}"))?;
        let (mut statements, rest) = script::split_script(&text);
        if !rest.trim().is_empty() {
            statements.push(rest.trim().to_owned());
        }
        self.include_depth += 1;
        let mut outcome = Ok(true);
        for sql in &statements {
            match Box::pin(self.run_one(sql, params, ctrl_c_cancels)).await {
                Ok(true) => {}
                Ok(false) => {
                    outcome = Ok(false);
                    break;
                }
                Err(e) if self.continue_on_error => {
                    self.out.flush()?;
                    self.report(e.as_ref());
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        self.include_depth -= 1;
        outcome
    }

    /// Runs a meta-command; whether to go on.
    async fn meta(
        &mut self,
        line: &str,
        params: &Params,
        ctrl_c_cancels: bool,
    ) -> Result<bool, BoxError> {
        use meta::{Meta, text_batch};
        match Meta::parse(line)? {
            Meta::Catalogs => {
                let names = self.conn.catalogs().await?;
                let batch = text_batch(vec![("catalog", names.into_iter().map(Some).collect())])?;
                self.write_batch(&batch)?;
            }
            Meta::Schemas(pattern) => {
                let schemas = self.conn.schemas(None, pattern.as_deref()).await?;
                let batch = text_batch(vec![
                    (
                        "catalog",
                        schemas.iter().map(|s| s.catalog.clone()).collect(),
                    ),
                    (
                        "schema",
                        schemas.iter().map(|s| Some(s.name.clone())).collect(),
                    ),
                ])?;
                self.write_batch(&batch)?;
            }
            Meta::Tables(pattern) => {
                let tables = self
                    .conn
                    .tables(&meta::table_filter(pattern.as_deref()))
                    .await?;
                let batch = text_batch(vec![
                    (
                        "catalog",
                        tables.iter().map(|t| t.catalog.clone()).collect(),
                    ),
                    ("schema", tables.iter().map(|t| t.schema.clone()).collect()),
                    (
                        "name",
                        tables.iter().map(|t| Some(t.name.clone())).collect(),
                    ),
                    (
                        "type",
                        tables.iter().map(|t| Some(t.table_type.clone())).collect(),
                    ),
                ])?;
                self.write_batch(&batch)?;
            }
            Meta::Describe(name) => self.describe(&name).await?,
            Meta::Expanded => {
                self.style.expanded = !self.style.expanded;
                let state = if self.style.expanded { "on" } else { "off" };
                eprintln!("Expanded display is {state}.");
            }
            Meta::Format(name) => {
                self.format = <Format as clap::ValueEnum>::from_str(&name, true).map_err(|_| {
                    format!("unknown format {name:?}: table, csv, json, ndjson, arrow or parquet")
                })?;
            }
            Meta::ErrVerbose => match &self.last_error {
                Some(text) => eprint!("{text}"),
                None => eprintln!("there was no error"),
            },
            Meta::Watch { seconds, times } => {
                // Each run prints as it comes, as psql's \watch does: a pager would hold the
                // loop until quit.
                let paging = std::mem::replace(&mut self.pager_on, false);
                let watched = self.watch(seconds, times, params, ctrl_c_cancels).await;
                self.pager_on = paging;
                if !watched? {
                    return Ok(false);
                }
            }
            Meta::Pager(on) => {
                self.pager_on = on.unwrap_or(!self.pager_on);
                let state = match (&self.pager, self.pager_on) {
                    (Some(command), true) => format!("on ({command})"),
                    (None, true) => "on, but DBAPI_PAGER or PAGER is empty".to_owned(),
                    (_, false) => "off".to_owned(),
                };
                eprintln!("Pager usage is {state}.");
            }
            Meta::Timing => {
                self.timing = !self.timing;
                eprintln!("Timing is {}.", if self.timing { "on" } else { "off" });
            }
            Meta::Output(file) => {
                self.out.flush()?;
                self.out_is_terminal = file.is_none() && std::io::stdout().is_terminal();
                self.out = match file {
                    Some(path) => Box::new(std::io::BufWriter::new(output::create_file(
                        std::path::Path::new(&path),
                    )?)),
                    None => Box::new(std::io::BufWriter::new(std::io::stdout())),
                };
            }
            Meta::Include(file) => return self.include(&file, params, ctrl_c_cancels).await,
            Meta::Copy(copy) => self.copy(copy, params, ctrl_c_cancels).await?,
            Meta::Set(None) => {
                let (names, values) = self
                    .vars
                    .iter()
                    .map(|(n, v)| (Some(n.clone()), Some(v.clone())))
                    .unzip();
                self.write_batch(&text_batch(vec![("name", names), ("value", values)])?)?;
            }
            Meta::Set(Some((name, value))) => {
                self.vars.insert(name, value);
            }
            Meta::Unset(name) => {
                self.vars.remove(&name);
            }
            Meta::Connect(url) => {
                // A URL that does not connect keeps the session on the connection it has.
                let conn = dbapi::connect(&url)
                    .await
                    .map_err(|e| format!("\\c: {e} (still connected to {})", self.shown_url))?;
                let old = std::mem::replace(&mut self.conn, conn);
                self.shown_url = dbapi::redact_url(&url);
                if let Err(e) = old.close().await {
                    eprintln!(
                        "warning: closing the previous connection: {}",
                        output::shown(&e.to_string())
                    );
                }
                if !self.quiet {
                    eprintln!("connected to {}", self.shown_url);
                }
                if let Err(e) = self.refresh_names(false).await {
                    eprintln!(
                        "warning: Tab completes no names: {}",
                        output::shown(&e.to_string())
                    );
                }
            }
            Meta::Refresh => self.refresh_names(true).await?,
            Meta::SqlHelp(topic) => self.sql_help(topic.as_deref()).await?,
            Meta::ConnInfo => writeln!(self.out, "{}", self.shown_url)?,
            Meta::Help => writeln!(self.out, "{}", meta::HELP)?,
            Meta::Quit => return Ok(false),
        }
        Ok(true)
    }

    /// Fetches the names Tab completes (in the shell; elsewhere there is nothing to
    /// complete): tables with their columns, and the server's keywords, asked at once (one
    /// round trip). A server without metadata leaves keywords only. `say`: report the count.
    async fn refresh_names(&mut self, say: bool) -> Result<(), BoxError> {
        let Some(names) = &self.names else {
            if say {
                eprintln!("nothing to refresh: Tab completion is for the interactive shell");
            }
            return Ok(());
        };
        let filter = dbapi::metadata::TableFilter::new().with_columns();
        let (tables, info) = tokio::join!(self.conn.tables(&filter), self.conn.server_info());
        let tables = match tables {
            Ok(tables) => tables,
            Err(e) if e.is_not_supported() => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let keywords = info.map(|i| i.keywords).unwrap_or_default();
        let fresh = complete::Names::new(&tables, &keywords);
        if say {
            eprintln!(
                "{} tables, {} names and {} server keywords to complete",
                tables.len(),
                fresh.objects.len(),
                fresh.keywords.len()
            );
        }
        *names.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// `\h [TOPIC]`: a statement's synopsis; without one, the topics and the keywords the
    /// server lists.
    async fn sql_help(&mut self, topic: Option<&str>) -> Result<(), BoxError> {
        let Some(topic) = topic else {
            let topics: Vec<&str> = meta::SYNOPSES.iter().map(|(name, _)| *name).collect();
            writeln!(self.out, "Synopses (\\h NAME): {}", topics.join(", "))?;
            let keywords = match self.conn.server_info().await {
                Ok(info) => info.keywords,
                Err(e) if e.is_not_supported() => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            if keywords.is_empty() {
                writeln!(self.out, "The server does not list its SQL keywords.")?;
            } else {
                let shown: Vec<String> = keywords
                    .iter()
                    .map(|k| output::shown(k).into_owned())
                    .collect();
                writeln!(
                    self.out,
                    "Keywords of this server beyond SQL-92 ({}):",
                    shown.len()
                )?;
                writeln!(self.out, "{}", shown.join(" "))?;
            }
            return Ok(());
        };
        let found = meta::synopses(topic);
        if found.is_empty() {
            return Err(format!("no help for {topic:?}: \\h lists the statements it knows").into());
        }
        for (name, synopsis) in found {
            writeln!(self.out, "{name}\n{synopsis}\n")?;
        }
        Ok(())
    }

    /// `\watch`: runs the last statement every `seconds`, `times` times or until Ctrl-C;
    /// whether to go on (a `\q` says not to).
    async fn watch(
        &mut self,
        seconds: f64,
        times: Option<u64>,
        params: &Params,
        ctrl_c_cancels: bool,
    ) -> Result<bool, BoxError> {
        let Some(sql) = self.last_sql.clone() else {
            return Err("\\watch: no statement has run yet".into());
        };
        let mut n = 0_u64;
        loop {
            if !self.quiet {
                writeln!(self.out, "(every {seconds} s) {sql}")?;
            }
            if !Box::pin(self.run_one(&sql, params, ctrl_c_cancels)).await? {
                return Ok(false);
            }
            self.out.flush()?;
            n += 1;
            if times.is_some_and(|times| n >= times) {
                return Ok(true);
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs_f64(seconds)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(true),
            }
        }
    }

    /// `\copy`: a file into a table, or a query's result into a file.
    async fn copy(
        &mut self,
        copy: copy::Copy,
        params: &Params,
        ctrl_c_cancels: bool,
    ) -> Result<(), BoxError> {
        match copy {
            copy::Copy::To {
                query,
                file,
                format,
            } => {
                let query = script::interpolate(&query, &self.vars);
                let created = output::create_file(std::path::Path::new(&file))
                    .map_err(|e| format!("\\copy: {file}: {e}"))?;
                let mut target = CopyTarget {
                    out: Box::new(std::io::BufWriter::new(created)),
                    format,
                };
                let rows = self
                    .execute(&query, params, ctrl_c_cancels, Some(&mut target))
                    .await?;
                target
                    .out
                    .flush()
                    .map_err(|e| format!("\\copy: {file}: {e}"))?;
                if !self.quiet {
                    self.say(&format!("COPY {rows}"))?;
                }
            }
            copy::Copy::From {
                table,
                file,
                format,
            } => {
                // CSV carries no types: those of the table when it exists, else guessed.
                let schema = if format == Format::Csv {
                    self.table_schema(&table).await?
                } else {
                    None
                };
                let reader = copy::open(&file, format, schema, self.style.null.as_deref())?;
                let seen = std::sync::Arc::new(copy::Seen::default());
                let reader = copy::Counted::new(reader, seen.clone());
                let name = unquoted(&table);
                let mut progress = Progress::new(self.show_progress, true);
                let reported = {
                    let work = dbapi::ConnectionExt::ingest_reader(
                        self.conn.as_ref(),
                        name,
                        dbapi::IngestMode::CreateAppend,
                        reader,
                    );
                    tokio::pin!(work);
                    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
                    loop {
                        tokio::select! {
                            reported = &mut work => break reported,
                            _ = tick.tick() => {
                                use std::sync::atomic::Ordering::Relaxed;
                                let none = dbapi::FetchProgress::new(0, None, None);
                                let (rows, bytes) = (seen.rows.load(Relaxed), seen.bytes.load(Relaxed));
                                progress.counted(rows, bytes, none);
                            }
                            _ = tokio::signal::ctrl_c(), if ctrl_c_cancels => {
                                return Err(format!(
                                    "\\copy {table} FROM {file}: cancelled (the upload was abandoned)"
                                ).into());
                            }
                        }
                    }
                };
                // The driver's error keeps its kind, which decides the exit status.
                let reported =
                    reported.map_err(|e| e.context(format!("\\copy {table} FROM {file}")))?;
                let read = seen.rows.load(std::sync::atomic::Ordering::Relaxed);
                drop(progress);
                if reported >= 0 && u64::try_from(reported).ok() != Some(read) {
                    return Err(format!(
                        "\\copy {table} FROM {file}: {read} rows were sent, the server reports {reported}"
                    )
                    .into());
                }
                if !self.quiet {
                    self.say(&format!("COPY {read}"))?;
                }
            }
        }
        Ok(())
    }

    /// The Arrow schema of a table's columns, when the table exists and the server describes
    /// it (`None` otherwise).
    async fn table_schema(
        &self,
        name: &str,
    ) -> Result<Option<arrow::datatypes::SchemaRef>, BoxError> {
        let tables = match self.find_tables(name).await {
            Ok(tables) => tables,
            Err(e) if e.is_not_supported() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let [table] = tables.as_slice() else {
            return Ok(None);
        };
        let fields: Vec<arrow::datatypes::Field> = table
            .columns
            .iter()
            .map(|c| arrow::datatypes::Field::new(&c.name, c.data_type.clone(), c.nullable))
            .collect();
        Ok(Some(std::sync::Arc::new(arrow::datatypes::Schema::new(
            fields,
        ))))
    }

    /// The tables named `[catalog.][schema.]name`, with their columns.
    async fn find_tables(&self, name: &str) -> dbapi::Result<Vec<dbapi::metadata::TableInfo>> {
        let wanted = meta::table_ref(&unquoted(name).replace('"', ""));
        let filter = dbapi::metadata::TableFilter {
            catalog: wanted.catalog.clone(),
            schema_pattern: wanted.schema.clone(),
            table_pattern: Some(wanted.name.clone()),
            ..dbapi::metadata::TableFilter::new()
        }
        .with_columns();
        let mut tables = self.conn.tables(&filter).await?;
        tables.retain(|t| {
            t.name == wanted.name
                && wanted
                    .schema
                    .as_ref()
                    .is_none_or(|s| t.schema.as_ref() == Some(s))
                && wanted
                    .catalog
                    .as_ref()
                    .is_none_or(|c| t.catalog.as_ref() == Some(c))
        });
        Ok(tables)
    }

    /// `\d name`: the table's columns, then its keys.
    async fn describe(&mut self, name: &str) -> Result<(), BoxError> {
        let mut tables = self.find_tables(name).await?;
        let table = match tables.len() {
            0 => return Err(format!("no table named {name}").into()),
            1 => tables.remove(0),
            _ => {
                let names: Vec<String> = tables
                    .iter()
                    .map(|t| dbapi::metadata::TableRef::from(t).to_string())
                    .collect();
                return Err(format!("{name} is ambiguous: {}", names.join(", ")).into());
            }
        };
        let columns = &table.columns;
        let batch = meta::text_batch(vec![
            (
                "column",
                columns.iter().map(|c| Some(c.name.clone())).collect(),
            ),
            (
                "type",
                columns
                    .iter()
                    .map(|c| Some(c.data_type.to_string()))
                    .collect(),
            ),
            (
                "nullable",
                columns
                    .iter()
                    .map(|c| Some(if c.nullable { "yes" } else { "no" }.to_owned()))
                    .collect(),
            ),
            (
                "sql type",
                columns.iter().map(|c| c.type_name.clone()).collect(),
            ),
            (
                "remarks",
                columns.iter().map(|c| c.remarks.clone()).collect(),
            ),
        ])?;
        self.write_batch(&batch)?;
        let reference = dbapi::metadata::TableRef::from(&table);
        let keys = match self.conn.primary_keys(&reference).await {
            Ok(keys) => keys,
            Err(e) if e.is_not_supported() => {
                writeln!(self.out, "Keys: not available from this server.")?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        if !keys.is_empty() {
            let columns: Vec<&str> = keys.iter().map(|k| k.column.as_str()).collect();
            let name = keys[0].key_name.as_deref().unwrap_or("primary key");
            writeln!(self.out, "Primary key {name}: ({})", columns.join(", "))?;
        }
        for (title, keys) in [
            ("Foreign key", self.conn.imported_keys(&reference).await),
            ("Referenced by", self.conn.exported_keys(&reference).await),
        ] {
            let keys = match keys {
                Ok(keys) => keys,
                Err(e) if e.is_not_supported() => {
                    writeln!(self.out, "{title}: not available from this server.")?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for k in keys {
                writeln!(
                    self.out,
                    "{title} {}: {}({}) references {}({})",
                    k.foreign_key_name.as_deref().unwrap_or("-"),
                    k.foreign_table,
                    k.foreign_column,
                    k.primary_table,
                    k.primary_column
                )?;
            }
        }
        Ok(())
    }

    /// Runs one SQL statement on a cursor and writes its result (or its row count) to the
    /// session's output or to `target`; the number of rows written.
    async fn run_cursor(
        &mut self,
        cursor: &mut dyn Cursor,
        sql: &str,
        params: &Params,
        target: Option<&mut CopyTarget>,
    ) -> Result<u64, BoxError> {
        let bound = if script::mentions_parameters(sql) {
            params.clone()
        } else {
            Params::None
        };
        let to_terminal = self.out_is_terminal && target.is_none();
        let mut progress = Progress::new(self.show_progress, !to_terminal);
        progress.during(cursor.execute(sql, bound)).await?;
        if target.is_some() && cursor.description().is_none_or(|c| c.is_empty()) {
            return Err("\\copy: the statement returned no result to write".into());
        }
        let Some(columns) = cursor.description() else {
            let n = cursor.rowcount();
            if !self.quiet {
                // A count the server did not report stays unknown (never 0) for statements
                // that change rows; others say what they were.
                let tag = script::command_tag(sql);
                let said = if n >= 0 {
                    format!("OK, {n} rows affected")
                } else if script::changes_rows(&tag) {
                    "OK, the server did not report how many rows were affected".to_owned()
                } else {
                    format!("OK ({tag})")
                };
                self.say(&said)?;
            }
            return Ok(0);
        };
        if columns.is_empty() {
            // A statement without a result (DDL through the query path): read it to its end
            // (some servers run it only then), then say what ran instead of an empty table.
            while progress.during(cursor.fetch_batch()).await?.is_some() {}
            if !self.quiet {
                self.say(&format!("OK ({})", script::command_tag(sql)))?;
            }
            return Ok(0);
        }
        let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(
            columns
                .iter()
                .map(|c| {
                    arrow::datatypes::Field::new(c.name(), c.data_type().clone(), c.nullable())
                })
                .collect::<Vec<_>>(),
        ));
        self.write_result(cursor, schema, &mut progress, target)
            .await
    }

    /// Writes a cursor's result, batch by batch, to the session's output (at most
    /// `--max-rows` rows) or to all of it to `target`; the number of rows written.
    async fn write_result(
        &mut self,
        cursor: &mut dyn Cursor,
        announced: arrow::datatypes::SchemaRef,
        progress: &mut Progress,
        target: Option<&mut CopyTarget>,
    ) -> Result<u64, BoxError> {
        let first = progress.during(cursor.fetch_batch()).await?;
        let schema = first.as_ref().map_or(announced, |b| b.schema());
        let mut paged = if target.is_none() {
            self.pager()?
        } else {
            None
        };
        let quit = paged.as_ref().map(pager::Paged::quit_flag);
        let (out, format, style, max_rows): (&mut (dyn Write + Send), _, _, _) = match target {
            // A file of `\copy` gets every row, with its header (it is read back by
            // `\copy FROM`).
            Some(target) => (
                &mut target.out,
                target.format,
                TableStyle {
                    tuples_only: false,
                    ..self.style.clone()
                },
                None,
            ),
            None => {
                let out: &mut (dyn Write + Send) = match &mut paged {
                    Some(paged) => paged,
                    None => &mut self.out,
                };
                (out, self.format, self.style.clone(), self.max_rows)
            }
        };
        let mut writer = ResultWriter::new(&mut *out, format, &schema, &style)?;
        let mut shown = 0_u64;
        let mut left_out = false;
        let mut next = first;
        loop {
            let Some(batch) = next else { break };
            progress.batch(&batch, cursor.fetch_progress());
            let room = max_rows.map_or(u64::MAX, |max| max - shown);
            let rows = batch.num_rows() as u64;
            if rows > room {
                // `room` < `rows`, a usize: the cast is exact.
                writer.write(&batch.slice(0, room as usize))?;
                shown += room;
                left_out = true;
                break;
            }
            writer.write(&batch)?;
            shown += rows;
            if quit
                .as_ref()
                .is_some_and(|q| q.load(std::sync::atomic::Ordering::Relaxed))
            {
                // The pager was quit: the rest is not read (closing the cursor ends it).
                break;
            }
            next = progress.during(cursor.fetch_batch()).await?;
            if max_rows == Some(shown) && next.as_ref().is_some_and(|b| b.num_rows() > 0) {
                left_out = true;
                break;
            }
        }
        writer.finish(&schema)?;
        if left_out {
            out.flush()?;
            // The rest of the result is not read: closing the cursor ends its streams.
            eprintln!("(only the first {shown} rows are shown: --max-rows)");
        }
        if let Some(paged) = paged {
            tokio::task::block_in_place(|| paged.finish())?;
        }
        Ok(shown)
    }
}

/// Where `\\copy ... TO` writes a result.
struct CopyTarget {
    /// The file.
    out: Box<dyn Write + Send>,
    /// Its format.
    format: Format,
}

/// A table name as the driver's ingest takes it: `"My Table"` is `My Table`.
fn unquoted(name: &str) -> &str {
    name.strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .filter(|n| !n.contains('"'))
        .unwrap_or(name)
}

/// Where the shell keeps its history: `DBAPI_HISTORY`, else `~/.dbapi_history`.
fn history_file() -> Option<PathBuf> {
    match std::env::var_os("DBAPI_HISTORY") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".dbapi_history")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::parse_from(std::iter::once("dbapi").chain(list.iter().copied()))
    }

    #[test]
    fn parameters_are_positional_or_named() {
        let p = params(&args(&["u", "--param", "2=b", "--param", "1=a"])).unwrap();
        assert_eq!(p, Params::from([Value::from("a"), Value::from("b")]));
        let p = params(&args(&["u", "-p", "name=alice", "-p", "$id=7"])).unwrap();
        let Params::Named(named) = p else {
            panic!("not named: {p:?}");
        };
        assert_eq!(named.len(), 2);
        let err = params(&args(&["u", "-p", "1=a", "-p", "3=c"])).unwrap_err();
        assert!(err.to_string().contains("parameter 2 is missing"), "{err}");
        let err = params(&args(&["u", "-p", "novalue"])).unwrap_err();
        assert!(err.to_string().contains("NAME=VALUE"), "{err}");
    }
}
