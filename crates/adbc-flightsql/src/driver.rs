//! The ADBC driver, database, connection and statement: ADBC's synchronous calls run on this
//! library's own Tokio runtime against the `dbapi` Flight SQL driver.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use adbc_core::PartitionedResult;
use adbc_core::error::{Result, Status};
use adbc_core::options::{
    InfoCode, ObjectDepth, OptionConnection, OptionDatabase, OptionStatement, OptionValue,
};
use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use dbapi::driver::add_count;
use dbapi::metadata::{TableFilter, TableRef, like};
use dbapi::{
    BatchReader, CancelToken, Connection as _, ConnectionExt, Cursor, IngestMode, Params,
    PreparedStatement,
};
use dbapi_flightsql::FlightSqlConnection;

use crate::answers::{self, Catalog, Info};
use crate::error::{adbc, to_adbc};
use crate::options::DatabaseOptions;

/// The runtime every call of the library runs on: created on first use, and again in a child
/// process after `fork()` (the parent's runtime threads do not exist there; its runtime is
/// left as it is, never dropped, since dropping it would wait for them).
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = *slot
        && owner == pid
    {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("adbc-dbapi-flightsql")
        .build()
        .map_err(|e| adbc(Status::Internal, format!("starting the runtime: {e}")))?;
    let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    Ok(rt)
}

/// What stands between the C boundary and the code behind it, one per ADBC object: a panic
/// inside a call becomes an error of that call and marks only this object (and what it
/// made) unusable, never the library; an object bound to a connection refuses calls from a
/// process other than the one that opened it (a child after `fork()`).
#[derive(Debug, Clone, Default)]
struct Wall {
    failed: Arc<std::sync::atomic::AtomicBool>,
    /// The process that opened the object's connection, when it has one.
    pid: Option<u32>,
}

impl Wall {
    /// A wall for an object of a connection opened in this process.
    fn for_connection() -> Wall {
        Wall {
            failed: Arc::default(),
            pid: Some(std::process::id()),
        }
    }

    /// A wall of its own for an object made by this one (same process, own failure).
    fn child(&self) -> Wall {
        Wall {
            failed: Arc::default(),
            pid: self.pid,
        }
    }

    /// Whether the object may be used here: it has not failed, and it is in its process.
    fn check(&self, what: &str) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.failed.load(Ordering::Acquire) {
            return Err(adbc(
                Status::InvalidState,
                format!(
                    "{what}: this object failed in an earlier call (an internal error) and \
                     cannot be used any more; other objects of the driver can"
                ),
            ));
        }
        if self.pid.is_some_and(|pid| pid != std::process::id()) {
            return Err(adbc(
                Status::InvalidState,
                format!(
                    "{what}: this connection was opened in another process (this one was \
                     forked from it); open a new connection in this process"
                ),
            ));
        }
        Ok(())
    }

    /// Runs one call of the object behind the wall.
    fn run<T>(&self, what: &str, call: impl FnOnce() -> Result<T>) -> Result<T> {
        self.check(what)?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
            Ok(outcome) => outcome,
            Err(cause) => {
                self.failed
                    .store(true, std::sync::atomic::Ordering::Release);
                let why = cause
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| cause.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_owned());
                // The message goes out as a C string: through the core's error, which
                // escapes NUL and control characters.
                let why = dbapi::Error::internal(why);
                Err(adbc(
                    Status::Internal,
                    format!(
                        "{what} failed inside the driver ({}); this object cannot be used any \
                         more, other objects of the driver can",
                        why.message()
                    ),
                ))
            }
        }
    }

    /// Runs one call that answers a result reader, and walls the reader in too.
    fn run_reader<R: RecordBatchReader + Send + 'static>(
        &self,
        what: &str,
        call: impl FnOnce() -> Result<R>,
    ) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        self.run(what, call).map(|reader| self.reader(reader))
    }

    /// A result reader as it crosses the C boundary: its panics become errors that end it,
    /// its errors' messages hold no NUL byte (the C stream interface hands them out as C
    /// strings), and it refuses to read in another process than its connection's.
    fn reader(
        &self,
        reader: impl RecordBatchReader + Send + 'static,
    ) -> Box<dyn RecordBatchReader + Send + 'static> {
        Box::new(WalledReader {
            schema: reader.schema(),
            reader: Some(Box::new(reader)),
            wall: self.child(),
        })
    }
}

/// See [`Wall::reader`].
struct WalledReader {
    schema: arrow::datatypes::SchemaRef,
    reader: Option<Box<dyn RecordBatchReader + Send>>,
    wall: Wall,
}

impl Iterator for WalledReader {
    type Item = std::result::Result<RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = self.reader.as_mut()?;
        let outcome = self.wall.run("reading a result", || Ok(reader.next()));
        match outcome {
            Ok(Some(Ok(batch))) => Some(Ok(batch)),
            Ok(None) => {
                self.reader = None;
                None
            }
            Ok(Some(Err(e))) => Some(Err(arrow::error::ArrowError::ExternalError(Box::new(
                dbapi::Error::from(e),
            )))),
            Err(e) => {
                self.reader = None;
                Some(Err(arrow::error::ArrowError::ExternalError(Box::new(
                    dbapi::Error::internal(e.message),
                ))))
            }
        }
    }
}

impl RecordBatchReader for WalledReader {
    fn schema(&self) -> arrow::datatypes::SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// Runs `future` to completion on the library's runtime (from a thread of a runtime of the
/// host's own, on a thread of its own: a runtime cannot block inside another).
fn block_on<F>(future: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    dbapi::blocking::block_on(runtime()?, future).map_err(|e| to_adbc(&e))
}

/// Runs a `dbapi` call, its error as ADBC's.
fn call<T: Send>(future: impl Future<Output = dbapi::Result<T>> + Send) -> Result<T> {
    block_on(future)?.map_err(|e| to_adbc(&e))
}

/// A current catalog or schema as read back: empty when unset or when the server cannot say.
fn name_or_empty(name: Result<Option<String>>) -> String {
    name.ok().flatten().unwrap_or_default()
}

/// The answer to the statistics calls.
fn no_statistics() -> adbc_core::error::Error {
    adbc(
        Status::NotImplemented,
        "statistics: Flight SQL has no statistics call",
    )
}

fn not_found(what: &str, key: &str) -> adbc_core::error::Error {
    adbc(Status::NotFound, format!("unknown {what} option {key:?}"))
}

fn text(value: OptionValue, key: &str) -> Result<String> {
    match value {
        OptionValue::String(s) => Ok(s),
        OptionValue::Int(i) => Ok(i.to_string()),
        OptionValue::Double(d) => Ok(d.to_string()),
        _ => Err(adbc(
            Status::InvalidArguments,
            format!("option {key:?} takes text"),
        )),
    }
}

fn flag(value: &str, key: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(adbc(
            Status::InvalidArguments,
            format!("option {key:?}: expected true or false, got {value:?}"),
        )),
    }
}

/// Options of a level that has only text options of its own.
macro_rules! text_only_options {
    () => {
        fn get_option_bytes(&self, key: Self::Option) -> Result<Vec<u8>> {
            self.get_option_string(key).map(String::into_bytes)
        }

        fn get_option_int(&self, key: Self::Option) -> Result<i64> {
            let value = self.get_option_string(key.clone())?;
            value.parse().map_err(|_| {
                adbc(
                    Status::InvalidArguments,
                    format!("option {:?} is not an integer", key.as_ref()),
                )
            })
        }

        fn get_option_double(&self, key: Self::Option) -> Result<f64> {
            let value = self.get_option_string(key.clone())?;
            value.parse().map_err(|_| {
                adbc(
                    Status::InvalidArguments,
                    format!("option {:?} is not a number", key.as_ref()),
                )
            })
        }
    };
}

/// The driver: what `AdbcDriverInit` hands to a driver manager.
#[derive(Debug, Default)]
pub struct FlightSqlAdbcDriver;

impl adbc_core::Driver for FlightSqlAdbcDriver {
    type DatabaseType = FlightSqlAdbcDatabase;

    fn new_database(&mut self) -> Result<FlightSqlAdbcDatabase> {
        Ok(FlightSqlAdbcDatabase::default())
    }

    fn new_database_with_opts(
        &mut self,
        opts: impl IntoIterator<Item = (OptionDatabase, OptionValue)>,
    ) -> Result<FlightSqlAdbcDatabase> {
        let mut database = FlightSqlAdbcDatabase::default();
        for (key, value) in opts {
            adbc_core::Optionable::set_option(&mut database, key, value)?;
        }
        Ok(database)
    }
}

/// A database: the connection options (`uri` and the driver's URL keys).
#[derive(Debug, Default)]
pub struct FlightSqlAdbcDatabase {
    options: DatabaseOptions,
    wall: Wall,
}

impl adbc_core::Optionable for FlightSqlAdbcDatabase {
    type Option = OptionDatabase;

    fn set_option(&mut self, key: OptionDatabase, value: OptionValue) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("set_option", || {
            let value = text(value, key.as_ref())?;
            self.options.set(key.as_ref(), value)
        })
    }

    fn get_option_string(&self, key: OptionDatabase) -> Result<String> {
        let wall = self.wall.clone();
        wall.run("get_option_string", || {
            self.options
                .get(key.as_ref())
                .ok_or_else(|| not_found("database", key.as_ref()))
        })
    }

    text_only_options!();
}

impl adbc_core::Database for FlightSqlAdbcDatabase {
    type ConnectionType = FlightSqlAdbcConnection;

    fn new_connection(&self) -> Result<FlightSqlAdbcConnection> {
        let wall = self.wall.clone();
        wall.run("new_connection", || {
            let config = self.options.config()?;
            let conn = call(FlightSqlConnection::connect_with(config))?;
            Ok(FlightSqlAdbcConnection {
                conn: Arc::new(conn),
                wall: Wall::for_connection(),
            })
        })
    }

    fn new_connection_with_opts(
        &self,
        opts: impl IntoIterator<Item = (OptionConnection, OptionValue)>,
    ) -> Result<FlightSqlAdbcConnection> {
        let wall = self.wall.clone();
        wall.run("new_connection_with_opts", || {
            let mut conn = self.new_connection()?;
            for (key, value) in opts {
                adbc_core::Optionable::set_option(&mut conn, key, value)?;
            }
            Ok(conn)
        })
    }
}

/// A connection to a Flight SQL server.
#[derive(Debug)]
pub struct FlightSqlAdbcConnection {
    conn: Arc<FlightSqlConnection>,
    wall: Wall,
}

impl adbc_core::Optionable for FlightSqlAdbcConnection {
    type Option = OptionConnection;

    fn set_option(&mut self, key: OptionConnection, value: OptionValue) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("set_option", || {
            let name = key.as_ref().to_owned();
            let value = text(value, &name)?;
            let conn = Arc::clone(&self.conn);
            match key {
                OptionConnection::AutoCommit => {
                    let on = flag(&value, &name)?;
                    call(async move { conn.set_autocommit(on).await })
                }
                OptionConnection::CurrentCatalog => {
                    call(async move { conn.set_current_catalog(&value).await })
                }
                OptionConnection::CurrentSchema => {
                    call(async move { conn.set_current_schema(&value).await })
                }
                _ => Err(not_found("connection", &name)),
            }
        })
    }

    fn get_option_string(&self, key: OptionConnection) -> Result<String> {
        let wall = self.wall.clone();
        wall.run("get_option_string", || {
            let conn = Arc::clone(&self.conn);
            match key {
                OptionConnection::AutoCommit => Ok(self.conn.autocommit().to_string()),
                // Hosts read these back unconditionally (some on every statement): a server
                // that cannot say is an empty name, never a failed call.
                OptionConnection::CurrentCatalog => {
                    Ok(name_or_empty(call(
                        async move { conn.current_catalog().await },
                    )))
                }
                OptionConnection::CurrentSchema => {
                    Ok(name_or_empty(call(
                        async move { conn.current_schema().await },
                    )))
                }
                other => Err(not_found("connection", other.as_ref())),
            }
        })
    }

    text_only_options!();
}

/// A reader over a batch already in memory.
fn one_batch(batch: RecordBatch) -> Box<dyn RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(arrow::record_batch::RecordBatchIterator::new(
        [Ok(batch)],
        schema,
    ))
}

/// The catalogs of a `GetObjects` answer at `depth`.
async fn objects(
    conn: &FlightSqlConnection,
    depth: ObjectDepth,
    catalog: Option<String>,
    db_schema: Option<String>,
    table_name: Option<String>,
    table_type: Option<Vec<String>>,
    column_name: Option<String>,
) -> dbapi::Result<Vec<Catalog>> {
    let wanted = |name: &Option<String>| match (&catalog, name) {
        (None, _) => true,
        (Some(pattern), Some(name)) => like(name, pattern, Some('\\')),
        (Some(pattern), None) => pattern.is_empty(),
    };
    let mut out: BTreeMap<Option<String>, Catalog> = BTreeMap::new();
    for name in conn.catalogs().await? {
        let name = Some(name);
        if wanted(&name) {
            out.insert(
                name.clone(),
                Catalog {
                    name,
                    schemas: None,
                },
            );
        }
    }
    if matches!(depth, ObjectDepth::Catalogs) {
        return Ok(out.into_values().collect());
    }
    let mut schemas: BTreeMap<(Option<String>, Option<String>), answers::Schema> = BTreeMap::new();
    for schema in conn.schemas(None, db_schema.as_deref()).await? {
        if wanted(&schema.catalog) {
            let key = (schema.catalog.clone(), Some(schema.name.clone()));
            schemas.insert(
                key,
                answers::Schema {
                    name: Some(schema.name),
                    tables: None,
                },
            );
        }
    }
    if !matches!(depth, ObjectDepth::Schemas) {
        for schema in schemas.values_mut() {
            schema.tables = Some(Vec::new());
        }
        let mut filter = TableFilter::new();
        filter.schema_pattern = db_schema;
        filter.table_pattern = table_name;
        filter.table_types = table_type.unwrap_or_default();
        filter.with_columns = matches!(depth, ObjectDepth::All | ObjectDepth::Columns);
        filter.column_pattern = column_name;
        for table in conn.tables(&filter).await? {
            if !wanted(&table.catalog) {
                continue;
            }
            let key = (table.catalog.clone(), table.schema.clone());
            let entry = schemas.entry(key).or_insert_with(|| answers::Schema {
                name: table.schema.clone(),
                tables: Some(Vec::new()),
            });
            entry
                .tables
                .get_or_insert_with(Vec::new)
                .push(answers::Table {
                    name: table.name,
                    table_type: table.table_type,
                    columns: filter.with_columns.then_some(table.columns),
                });
        }
    }
    for ((catalog_name, _), schema) in schemas {
        out.entry(catalog_name.clone())
            .or_insert_with(|| Catalog {
                name: catalog_name,
                schemas: None,
            })
            .schemas
            .get_or_insert_with(Vec::new)
            .push(schema);
    }
    for catalog in out.values_mut() {
        catalog.schemas.get_or_insert_with(Vec::new);
    }
    Ok(out.into_values().collect())
}

/// What this driver says of itself in `GetInfo`.
fn driver_info() -> Vec<(u32, Info)> {
    vec![
        (
            u32::from(&InfoCode::DriverName),
            Info::Text("ADBC dbapi Flight SQL driver".into()),
        ),
        (
            u32::from(&InfoCode::DriverVersion),
            Info::Text(env!("CARGO_PKG_VERSION").into()),
        ),
        (
            u32::from(&InfoCode::DriverArrowVersion),
            Info::Text("59".into()),
        ),
        (
            u32::from(&InfoCode::DriverAdbcVersion),
            Info::Int(1_001_000),
        ),
        (u32::from(&InfoCode::VendorSql), Info::Flag(true)),
    ]
}

impl adbc_core::Connection for FlightSqlAdbcConnection {
    type StatementType = FlightSqlAdbcStatement;

    fn new_statement(&mut self) -> Result<FlightSqlAdbcStatement> {
        let wall = self.wall.clone();
        wall.run("new_statement", || {
            Ok(FlightSqlAdbcStatement {
                conn: Arc::clone(&self.conn),
                sql: None,
                prepared: None,
                bound: None,
                ingest_table: None,
                ingest_mode: IngestMode::Create,
                cancel: CancelSlot::default(),
                wall: self.wall.child(),
            })
        })
    }

    fn get_info(
        &self,
        codes: Option<HashSet<InfoCode>>,
    ) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        let wall = self.wall.clone();
        wall.run_reader("get_info", || {
            let conn = Arc::clone(&self.conn);
            let server = call(async move { conn.server_info().await })?;
            let mut items = Vec::new();
            let vendor = [
                (InfoCode::VendorName, server.name.map(Info::Text)),
                (InfoCode::VendorVersion, server.version.map(Info::Text)),
                (
                    InfoCode::VendorArrowVersion,
                    server.arrow_version.map(Info::Text),
                ),
                (InfoCode::VendorSubstrait, server.substrait.map(Info::Flag)),
            ];
            for (code, value) in vendor {
                if let Some(value) = value {
                    items.push((u32::from(&code), value));
                }
            }
            items.extend(driver_info());
            if let Some(codes) = codes {
                let wanted: HashSet<u32> = codes.iter().map(u32::from).collect();
                items.retain(|(id, _)| wanted.contains(id));
            }
            Ok(one_batch(answers::info(&items)?))
        })
    }

    fn get_objects(
        &self,
        depth: ObjectDepth,
        catalog: Option<&str>,
        db_schema: Option<&str>,
        table_name: Option<&str>,
        table_type: Option<Vec<&str>>,
        column_name: Option<&str>,
    ) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        let wall = self.wall.clone();
        wall.run_reader("get_objects", || {
            let conn = Arc::clone(&self.conn);
            let owned = |s: Option<&str>| s.map(str::to_owned);
            let (catalog, db_schema, table_name, column_name) = (
                owned(catalog),
                owned(db_schema),
                owned(table_name),
                owned(column_name),
            );
            let table_type = table_type.map(|t| t.into_iter().map(str::to_owned).collect());
            let catalogs = call(async move {
                objects(
                    &conn,
                    depth,
                    catalog,
                    db_schema,
                    table_name,
                    table_type,
                    column_name,
                )
                .await
            })?;
            Ok(one_batch(answers::objects(&catalogs)?))
        })
    }

    fn get_table_schema(
        &self,
        catalog: Option<&str>,
        db_schema: Option<&str>,
        table_name: &str,
    ) -> Result<Schema> {
        let wall = self.wall.clone();
        wall.run("get_table_schema", || {
            let mut table = TableRef::new(table_name);
            table.catalog = catalog.map(str::to_owned);
            table.schema = db_schema.map(str::to_owned);
            let conn = Arc::clone(&self.conn);
            let schema = call(async move { conn.table_schema(&table).await })?;
            Ok(schema.as_ref().clone())
        })
    }

    fn get_table_types(&self) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        let wall = self.wall.clone();
        wall.run_reader("get_table_types", || {
            let conn = Arc::clone(&self.conn);
            let types = call(async move { conn.table_types().await })?;
            Ok(one_batch(answers::table_types(&types)?))
        })
    }

    fn get_statistic_names(&self) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        Err(no_statistics())
    }

    fn get_statistics(
        &self,
        _catalog: Option<&str>,
        _db_schema: Option<&str>,
        _table_name: Option<&str>,
        _approximate: bool,
    ) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        Err(no_statistics())
    }

    fn commit(&mut self) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("commit", || {
            let conn = Arc::clone(&self.conn);
            call(async move { conn.commit().await })
        })
    }

    fn rollback(&mut self) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("rollback", || {
            let conn = Arc::clone(&self.conn);
            call(async move { conn.rollback().await })
        })
    }

    fn read_partition(
        &self,
        partition: impl AsRef<[u8]>,
    ) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        let wall = self.wall.clone();
        wall.run_reader("read_partition", || {
            let conn = Arc::clone(&self.conn);
            let part = partition.as_ref().to_vec();
            let cursor = call(async move { conn.read_partition(&part).await })?;
            Ok(Box::new(rows(Box::new(cursor), false)?))
        })
    }
}

/// Runs a fetch on the library's runtime from a reader's `next` (a blocking caller).
fn fetch<T: Send>(future: impl Future<Output = dbapi::Result<T>> + Send) -> dbapi::Result<T> {
    block_on(future).map_err(|e| dbapi::Error::internal(e.message))?
}

/// A cursor's result as the blocking reader ADBC hands out: its schema, read from the first
/// batch when the server announced none; no columns and no rows for a statement that changed
/// data (ADBC hosts run every statement through `ExecuteQuery`).
fn rows(mut cursor: Box<dyn Cursor>, changed_data: bool) -> Result<BatchReader> {
    if changed_data {
        return Ok(BatchReader::from_fetch(
            Arc::new(Schema::empty()),
            None,
            || Ok(None),
        ));
    }
    let (first, schema) = match cursor.schema() {
        Some(schema) => (None, schema),
        None => {
            let first = call(async { cursor.fetch_batch().await })?;
            let schema = first
                .as_ref()
                .map(RecordBatch::schema)
                .or_else(|| cursor.schema())
                .unwrap_or_else(|| Arc::new(Schema::empty()));
            (first, schema)
        }
    };
    Ok(BatchReader::from_fetch(schema, first, move || {
        fetch(cursor.fetch_batch())
    }))
}

/// The parameters of a partitioned query: one row, by position (a result in parts is one
/// query's).
fn one_row_of_params(batches: &[RecordBatch]) -> Result<Params> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err(adbc(
            Status::InvalidArguments,
            "the bound parameters have no row",
        ));
    };
    if rows != 1 {
        return Err(adbc(
            Status::InvalidArguments,
            format!("partitions are of one query: bind one row of parameters, not {rows}"),
        ));
    }
    let values = batch
        .columns()
        .iter()
        .map(|column| dbapi::Value::from_arrow(column.as_ref(), 0))
        .collect::<dbapi::Result<Vec<_>>>()
        .map_err(|e| adbc(Status::InvalidArguments, format!("the parameters: {e}")))?;
    Ok(Params::Positional(values))
}

/// Parameters bound to a statement.
enum Bound {
    Batch(RecordBatch),
    Stream(Box<dyn RecordBatchReader + Send>),
}

impl Bound {
    /// Every batch, read now.
    fn batches(self) -> Result<Vec<RecordBatch>> {
        match self {
            Bound::Batch(batch) => Ok(vec![batch]),
            Bound::Stream(reader) => reader
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| adbc(Status::InvalidData, format!("the bound stream: {e}"))),
        }
    }
}

/// The cancel token of the statement's current execution.
#[derive(Debug, Default, Clone)]
struct CancelSlot(Arc<Mutex<Option<CancelToken>>>);

impl CancelSlot {
    fn set(&self, token: Option<CancelToken>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }
}

impl adbc_core::CancelHandle for CancelSlot {
    fn try_cancel(&self) -> Result<()> {
        let token = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match token {
            Some(token) => call(async move { token.cancel().await }),
            None => Ok(()),
        }
    }
}

/// A statement: SQL, its parameters, or a bulk ingest.
pub struct FlightSqlAdbcStatement {
    conn: Arc<FlightSqlConnection>,
    sql: Option<String>,
    prepared: Option<Box<dyn PreparedStatement>>,
    bound: Option<Bound>,
    ingest_table: Option<String>,
    ingest_mode: IngestMode,
    cancel: CancelSlot,
    wall: Wall,
}

impl std::fmt::Debug for FlightSqlAdbcStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSqlAdbcStatement")
            .field("sql", &self.sql)
            .field("prepared", &self.prepared.is_some())
            .field("ingest_table", &self.ingest_table)
            .finish_non_exhaustive()
    }
}

impl FlightSqlAdbcStatement {
    fn sql(&self) -> Result<String> {
        self.sql.clone().ok_or_else(|| {
            adbc(
                Status::InvalidState,
                "no SQL: set the statement's query first",
            )
        })
    }

    /// The prepared statement, prepared now when it is not yet.
    fn prepared(&mut self) -> Result<&mut Box<dyn PreparedStatement>> {
        if self.prepared.is_none() {
            let sql = self.sql()?;
            let conn = Arc::clone(&self.conn);
            self.prepared = Some(call(async move { conn.prepare(&sql).await })?);
        }
        self.prepared
            .as_mut()
            .ok_or_else(|| adbc(Status::Internal, "no prepared statement"))
    }

    /// Runs the statement with `params` bound, through the prepared statement.
    fn run_bound(&mut self, params: RecordBatch) -> Result<Box<dyn Cursor>> {
        let prepared = self.prepared()?;
        let cursor = call(prepared.execute_arrow(params))?;
        self.cancel.set(cursor.cancel_token().ok());
        Ok(cursor)
    }

    fn ingest(&mut self, table: String) -> Result<Option<i64>> {
        let bound = self.bound.take().ok_or_else(|| {
            adbc(
                Status::InvalidState,
                "bulk ingest: bind the data (a batch or a stream) first",
            )
        })?;
        let mode = self.ingest_mode;
        let conn = Arc::clone(&self.conn);
        let reader = match bound {
            Bound::Batch(batch) => one_batch(batch),
            Bound::Stream(reader) => reader,
        };
        // The reader is read on a thread of its own, two batches ahead.
        let n = call(async move { conn.ingest_reader(&table, mode, reader).await })?;
        Ok((n >= 0).then_some(n))
    }
}

impl adbc_core::Optionable for FlightSqlAdbcStatement {
    type Option = OptionStatement;

    fn set_option(&mut self, key: OptionStatement, value: OptionValue) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("set_option", || {
            let name = key.as_ref().to_owned();
            let value = text(value, &name)?;
            match key {
                OptionStatement::TargetTable => self.ingest_table = Some(value),
                OptionStatement::IngestMode => {
                    self.ingest_mode = match value.as_str() {
                        "adbc.ingest.mode.create" => IngestMode::Create,
                        "adbc.ingest.mode.append" => IngestMode::Append,
                        "adbc.ingest.mode.replace" => IngestMode::Replace,
                        "adbc.ingest.mode.create_append" => IngestMode::CreateAppend,
                        other => {
                            return Err(adbc(
                                Status::InvalidArguments,
                                format!("unknown ingest mode {other:?}"),
                            ));
                        }
                    }
                }
                OptionStatement::Temporary => {
                    if flag(&value, &name)? {
                        return Err(adbc(
                            Status::NotImplemented,
                            "ingest into a temporary table: Flight SQL's ingest has no such option \
                             this driver sends",
                        ));
                    }
                }
                OptionStatement::TargetCatalog | OptionStatement::TargetDbSchema => {
                    return Err(adbc(
                        Status::NotImplemented,
                        format!(
                            "{name}: ingest goes to the connection's current catalog and schema \
                             (set adbc.connection.catalog / adbc.connection.db_schema)"
                        ),
                    ));
                }
                _ => return Err(not_found("statement", &name)),
            }
            Ok(())
        })
    }

    fn get_option_string(&self, key: OptionStatement) -> Result<String> {
        let wall = self.wall.clone();
        wall.run("get_option_string", || match key {
            OptionStatement::TargetTable => self
                .ingest_table
                .clone()
                .ok_or_else(|| not_found("statement", key.as_ref())),
            OptionStatement::IngestMode => Ok(format!("adbc.ingest.mode.{}", self.ingest_mode)),
            other => Err(not_found("statement", other.as_ref())),
        })
    }

    text_only_options!();
}

impl adbc_core::Statement for FlightSqlAdbcStatement {
    fn bind(&mut self, batch: RecordBatch) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("bind", || {
            self.bound = Some(Bound::Batch(batch));
            Ok(())
        })
    }

    fn bind_stream(&mut self, reader: Box<dyn RecordBatchReader + Send>) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("bind_stream", || {
            self.bound = Some(Bound::Stream(reader));
            Ok(())
        })
    }

    fn execute(&mut self) -> Result<Box<dyn RecordBatchReader + Send + 'static>> {
        let wall = self.wall.clone();
        wall.run_reader("execute", || {
            if self.ingest_table.is_some() {
                return Err(adbc(
                    Status::InvalidState,
                    "bulk ingest returns no rows: use execute_update",
                ));
            }
            let cursor = match self.bound.take() {
                Some(bound) => {
                    let batches = bound.batches()?;
                    let schema = batches.first().map(RecordBatch::schema).ok_or_else(|| {
                        adbc(Status::InvalidArguments, "the bound stream is empty")
                    })?;
                    let params =
                        arrow::compute::concat_batches(&schema, &batches).map_err(|e| {
                            adbc(Status::InvalidArguments, format!("the parameters: {e}"))
                        })?;
                    self.run_bound(params)?
                }
                None => {
                    let sql = self.sql()?;
                    let mut cursor = self.conn.cursor().map_err(|e| to_adbc(&e))?;
                    self.cancel.set(cursor.cancel_token().ok());
                    call(async {
                        cursor.execute(&sql, Params::None).await?;
                        Ok(cursor)
                    })?
                }
            };
            let changed_data = dbapi::driver::changes_data(self.sql.as_deref().unwrap_or(""));
            Ok(Box::new(rows(cursor, changed_data)?))
        })
    }

    fn execute_update(&mut self) -> Result<Option<i64>> {
        let wall = self.wall.clone();
        wall.run("execute_update", || {
            if let Some(table) = self.ingest_table.clone() {
                return self.ingest(table);
            }
            match self.bound.take() {
                Some(bound) => {
                    let mut total = Some(0_i64);
                    for batch in bound.batches()? {
                        let n = self.run_bound(batch)?.rowcount();
                        total = add_count(total, Some(n));
                    }
                    Ok(total)
                }
                None => {
                    let sql = self.sql()?;
                    let mut cursor = self.conn.cursor().map_err(|e| to_adbc(&e))?;
                    self.cancel.set(cursor.cancel_token().ok());
                    let n = call(async move { cursor.execute_update(&sql, Params::None).await })?;
                    Ok((n >= 0).then_some(n))
                }
            }
        })
    }

    fn execute_schema(&mut self) -> Result<Schema> {
        let wall = self.wall.clone();
        wall.run("execute_schema", || {
            let prepared = self.prepared()?;
            prepared
                .result_schema()
                .map(|s| s.as_ref().clone())
                .ok_or_else(|| {
                    adbc(
                        Status::NotImplemented,
                        "the server announced no result schema for this statement",
                    )
                })
        })
    }

    fn execute_partitions(&mut self) -> Result<PartitionedResult> {
        let wall = self.wall.clone();
        wall.run("execute_partitions", || {
            if self.ingest_table.is_some() {
                return Err(adbc(
                    Status::InvalidState,
                    "bulk ingest has no result to partition: use execute_update",
                ));
            }
            let params = match self.bound.take() {
                Some(bound) => one_row_of_params(&bound.batches()?)?,
                None => Params::None,
            };
            let sql = self.sql()?;
            let conn = Arc::clone(&self.conn);
            let partitions = call(async move { conn.execute_partitions(&sql, params).await })?;
            Ok(PartitionedResult {
                partitions: partitions.parts,
                schema: partitions.schema.as_ref().clone(),
                rows_affected: -1,
            })
        })
    }

    fn get_parameter_schema(&self) -> Result<Schema> {
        let wall = self.wall.clone();
        wall.run("get_parameter_schema", || {
            let prepared = self.prepared.as_ref().ok_or_else(|| {
                adbc(
                    Status::InvalidState,
                    "the parameter schema: prepare the statement first",
                )
            })?;
            prepared
                .parameter_schema()
                .map(|s| s.as_ref().clone())
                .ok_or_else(|| {
                    adbc(
                        Status::NotImplemented,
                        "the server announced no parameter schema for this statement",
                    )
                })
        })
    }

    fn prepare(&mut self) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("prepare", || {
            self.prepared = None;
            self.prepared().map(drop)
        })
    }

    fn set_sql_query(&mut self, query: impl AsRef<str>) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("set_sql_query", || {
            self.sql = Some(query.as_ref().to_owned());
            self.prepared = None;
            self.ingest_table = None;
            Ok(())
        })
    }

    fn set_substrait_plan(&mut self, _plan: impl AsRef<[u8]>) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("set_substrait_plan", || {
            Err(adbc(
                Status::NotImplemented,
                "Substrait plans: this driver runs SQL",
            ))
        })
    }

    fn cancel(&mut self) -> Result<()> {
        let wall = self.wall.clone();
        wall.run("cancel", || {
            adbc_core::CancelHandle::try_cancel(&self.cancel)
        })
    }

    fn get_cancel_handle(&self) -> Box<dyn adbc_core::CancelHandle> {
        Box::new(self.cancel.clone())
    }
}
