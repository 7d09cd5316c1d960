//! `dbapi` tables in a [Ballista](https://datafusion.apache.org/ballista/) cluster: the table
//! and its scan serialized, the scheduler running the remote statement once, each executor
//! reading the result's parts at their locations.
//!
//! ```
//! use std::sync::Arc;
//!
//! use ballista_core::extension::SessionConfigExt;
//! use datafusion::prelude::SessionConfig;
//! use dbapi::metadata::TableRef;
//! use dbapi_ballista::DbapiCodec;
//! use dbapi_datafusion::DbapiTable;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let server = dbapi_flightsql_server::Server::builder().demo().start().await?;
//! # let url = server.url();
//! dbapi_flightsql::register();
//! let conn: Arc<dyn dbapi::Connection> = Arc::from(dbapi::connect(&url).await?);
//! // Every process of the cluster (client, scheduler, executors) builds its codec with its
//! // own connection under the same source name: plans name the source, never a URL or a
//! // credential.
//! let codec = DbapiCodec::new().with_source("sensors", Arc::clone(&conn));
//! let config = codec.configure(SessionConfig::new_with_ballista());
//! let logical = config.ballista_logical_extension_codec();
//! assert!((logical.as_ref() as &dyn std::any::Any).is::<DbapiCodec>());
//! let readings = DbapiTable::new(conn, TableRef::new("readings").in_schema("public")).await?;
//! // A client registers `readings` in a `SessionContext::remote_with_state` built from
//! // `config`; the scheduler and executors take their state from the same kind of config.
//! # drop(readings);
//! # Ok(()) }
//! ```
//!
//! How a query runs (`docs/datafusion.md`, "Ballista"):
//! - the client serializes its logical plan: a [`DbapiTable`] as its source name, table and
//!   dialect ([`DbapiCodec`] as the `LogicalExtensionCodec`); the schema travels with the plan;
//! - the scheduler decodes the table on its own connection to that source, with
//!   [`DbapiTable::with_parts_at_planning`]: planning runs the statement once
//!   (`execute_partitions`) and the scan has one partition per part of the result;
//! - the scan travels to the executors with its statement, schema and serialized parts
//!   ([`DbapiCodec`] as the `PhysicalExtensionCodec`); each executor reads the parts of the
//!   partitions it runs ([`dbapi::Connection::read_partition`]) on its own connection, at the
//!   parts' locations, under its own credentials.
//!
//! Credentials never travel: a plan names a source, and each process resolves the name to a
//! connection it opened itself. A source missing in a process is an error naming it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use dbapi::Connection;
use dbapi::metadata::TableRef;
use dbapi_datafusion::{DbapiScan, DbapiTable, Dialect, RemoteParts};
use prost::Message;

/// What opens a serialized table.
const TABLE_MAGIC: &[u8] = b"dbapi-table/1\n";
/// What opens a serialized scan.
const SCAN_MAGIC: &[u8] = b"dbapi-scan/1\n";

/// A table as a plan carries it.
#[derive(Clone, PartialEq, Message)]
struct TableNode {
    /// The source's name in every process's [`DbapiCodec`].
    #[prost(string, tag = "1")]
    source: String,
    #[prost(string, optional, tag = "2")]
    catalog: Option<String>,
    #[prost(string, optional, tag = "3")]
    schema: Option<String>,
    #[prost(string, tag = "4")]
    name: String,
    /// The dialect's identifier quote.
    #[prost(string, tag = "5")]
    quote: String,
}

/// A scan as a plan carries it.
#[derive(Clone, PartialEq, Message)]
struct ScanNode {
    #[prost(string, tag = "1")]
    source: String,
    #[prost(string, tag = "2")]
    sql: String,
    #[prost(message, optional, tag = "3")]
    schema: Option<datafusion_proto::protobuf::Schema>,
    /// The result's parts, as the driver serialized them.
    #[prost(bytes = "vec", repeated, tag = "4")]
    parts: Vec<Vec<u8>>,
    /// The result is read whole (the driver has no partitions), by partition 0.
    #[prost(bool, tag = "5")]
    whole: bool,
}

/// The logical and physical extension codec of a Ballista cluster reading `dbapi` tables:
/// [`DbapiTable`] and [`DbapiScan`] by source name, everything else by the codecs it wraps
/// (Ballista's own by default).
///
/// Each process of the cluster gives its codec the same source names, each name bound to a
/// connection that process opened ([`DbapiCodec::with_source`]): the client's tables must be
/// read through one of its sources, and the scheduler and executors find theirs by name.
#[derive(Clone)]
pub struct DbapiCodec {
    sources: Vec<(String, Arc<dyn Connection>)>,
    logical: Arc<dyn LogicalExtensionCodec>,
    physical: Arc<dyn PhysicalExtensionCodec>,
}

impl fmt::Debug for DbapiCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbapiCodec")
            .field(
                "sources",
                &self.sources.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("logical", &self.logical)
            .field("physical", &self.physical)
            .finish()
    }
}

impl Default for DbapiCodec {
    fn default() -> Self {
        DbapiCodec::new()
    }
}

impl DbapiCodec {
    /// A codec with no sources, wrapping Ballista's own codecs.
    pub fn new() -> DbapiCodec {
        DbapiCodec::wrapping(
            Arc::new(BallistaLogicalExtensionCodec::default()),
            Arc::new(BallistaPhysicalExtensionCodec::default()),
        )
    }

    /// A codec with no sources handing what is not a `dbapi` table or scan to `logical` and
    /// `physical`.
    pub fn wrapping(
        logical: Arc<dyn LogicalExtensionCodec>,
        physical: Arc<dyn PhysicalExtensionCodec>,
    ) -> DbapiCodec {
        DbapiCodec {
            sources: Vec::new(),
            logical,
            physical,
        }
    }

    /// The same codec with the source `name` read through `conn` in this process (a later
    /// source of the same name replaces it).
    #[must_use]
    pub fn with_source(mut self, name: impl Into<String>, conn: Arc<dyn Connection>) -> Self {
        let name = name.into();
        self.sources.retain(|(n, _)| *n != name);
        self.sources.push((name, conn));
        self
    }

    /// `config` with this codec as Ballista's logical and physical extension codec.
    pub fn configure(&self, config: SessionConfig) -> SessionConfig {
        let codec = Arc::new(self.clone());
        config
            .with_ballista_logical_extension_codec(Arc::clone(&codec) as _)
            .with_ballista_physical_extension_codec(codec)
    }

    /// The name of the source `conn` is.
    fn name_of(&self, conn: &Arc<dyn Connection>, what: &str) -> Result<String> {
        self.sources
            .iter()
            .find(|(_, c)| std::ptr::addr_eq(Arc::as_ptr(c), Arc::as_ptr(conn)))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{what} is read through a connection that is none of this codec's sources \
                     (DbapiCodec::with_source): a plan sent to other processes names its \
                     source, and each process reads it through its own connection"
                ))
            })
    }

    /// This process's connection to the source `name`.
    fn source(&self, name: &str) -> Result<Arc<dyn Connection>> {
        self.sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, conn)| Arc::clone(conn))
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "the plan reads the dbapi source {name:?}, which this process's DbapiCodec \
                     does not have (DbapiCodec::with_source): give every process of the \
                     cluster the same source names"
                ))
            })
    }
}

/// `bytes` without `magic` at their start, if they have it.
fn ours<'a>(bytes: &'a [u8], magic: &[u8]) -> Option<&'a [u8]> {
    bytes.strip_prefix(magic)
}

fn encode(magic: &[u8], message: &impl Message, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(magic);
    message
        .encode(buf)
        .map_err(|e| DataFusionError::Internal(format!("encoding a dbapi plan node: {e}")))
}

fn malformed(what: &str, e: impl fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("a malformed {what} in a plan received: {e}"))
}

/// The dialect of a serialized quote.
fn dialect(quote: &str) -> Result<Dialect> {
    let mut chars = quote.chars();
    match (chars.next(), chars.next()) {
        (Some(q @ ('"' | '`' | '[')), None) => Ok(Dialect::with_quote(q)),
        _ => Err(malformed(
            "dbapi table",
            format!("identifier quote {quote:?} is not \", ` or ["),
        )),
    }
}

impl LogicalExtensionCodec for DbapiCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.logical.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.logical.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let Some(bytes) = ours(buf, TABLE_MAGIC) else {
            return self
                .logical
                .try_decode_table_provider(buf, table_ref, schema, ctx);
        };
        let node = TableNode::decode(bytes).map_err(|e| malformed("dbapi table", e))?;
        let table = TableRef {
            catalog: node.catalog,
            schema: node.schema,
            name: node.name,
        };
        let conn = self.source(&node.source)?;
        // A table decoded here is planned here and read elsewhere: its parts must be in the
        // plan.
        Ok(Arc::new(
            DbapiTable::with_schema(conn, table, schema)
                .with_dialect(dialect(&node.quote)?)
                .with_parts_at_planning(),
        ))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(table) = (node.as_ref() as &dyn Any).downcast_ref::<DbapiTable>() else {
            return self.logical.try_encode_table_provider(table_ref, node, buf);
        };
        let remote = table.table();
        let message = TableNode {
            source: self.name_of(table.connection(), &format!("the table {table_ref}"))?,
            catalog: remote.catalog.clone(),
            schema: remote.schema.clone(),
            name: remote.name.clone(),
            quote: table.dialect().quote_char().to_string(),
        };
        encode(TABLE_MAGIC, &message, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.logical.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.logical.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        LogicalExtensionCodec::try_decode_udf(self.logical.as_ref(), name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        LogicalExtensionCodec::try_encode_udf(self.logical.as_ref(), node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        LogicalExtensionCodec::try_decode_udaf(self.logical.as_ref(), name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        LogicalExtensionCodec::try_encode_udaf(self.logical.as_ref(), node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        LogicalExtensionCodec::try_decode_udwf(self.logical.as_ref(), name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        LogicalExtensionCodec::try_encode_udwf(self.logical.as_ref(), node, buf)
    }
}

impl PhysicalExtensionCodec for DbapiCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(bytes) = ours(buf, SCAN_MAGIC) else {
            return self.physical.try_decode(buf, inputs, ctx, proto_converter);
        };
        let node = ScanNode::decode(bytes).map_err(|e| malformed("dbapi scan", e))?;
        let schema = node
            .schema
            .as_ref()
            .ok_or_else(|| malformed("dbapi scan", "it has no schema"))
            .and_then(|s| Schema::try_from(s).map_err(|e| malformed("dbapi scan schema", e)))?;
        let remote = match (node.whole, node.parts.is_empty()) {
            (true, true) => RemoteParts::Whole,
            (false, _) => RemoteParts::Parts(node.parts),
            (true, false) => {
                return Err(malformed("dbapi scan", "it is read whole and has parts"));
            }
        };
        Ok(Arc::new(DbapiScan::planned(
            self.source(&node.source)?,
            node.sql,
            Arc::new(schema),
            remote,
        )))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(scan) = node.downcast_ref::<DbapiScan>() else {
            return self.physical.try_encode(node, buf, proto_converter);
        };
        let what = format!("the scan {:?}", scan.sql());
        let source = self.name_of(scan.connection(), &what)?;
        let (parts, whole) = match scan.remote_parts() {
            Some(RemoteParts::Parts(parts)) => (parts.clone(), false),
            Some(RemoteParts::Whole) => (Vec::new(), true),
            None => {
                return Err(DataFusionError::Plan(format!(
                    "{what} has not run yet, so its parts cannot be sent: tables read in \
                     other processes are planned with DbapiTable::with_parts_at_planning (the \
                     codec decodes tables so)"
                )));
            }
        };
        let schema = datafusion_proto::protobuf::Schema::try_from(scan.schema().as_ref())
            .map_err(|e| DataFusionError::Internal(format!("encoding {what}'s schema: {e}")))?;
        let message = ScanNode {
            source,
            sql: scan.sql().to_owned(),
            schema: Some(schema),
            parts,
            whole,
        };
        encode(SCAN_MAGIC, &message, buf)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        PhysicalExtensionCodec::try_decode_udf(self.physical.as_ref(), name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        PhysicalExtensionCodec::try_encode_udf(self.physical.as_ref(), node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        PhysicalExtensionCodec::try_decode_udaf(self.physical.as_ref(), name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        PhysicalExtensionCodec::try_encode_udaf(self.physical.as_ref(), node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        PhysicalExtensionCodec::try_decode_udwf(self.physical.as_ref(), name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        PhysicalExtensionCodec::try_encode_udwf(self.physical.as_ref(), node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_one_of_three_characters() {
        assert_eq!(dialect("`").map(|d| d.quote_char()).ok(), Some('`'));
        assert!(dialect("'").is_err());
        assert!(dialect("\"\"").is_err());
        assert!(dialect("").is_err());
    }

    #[test]
    fn bytes_of_other_codecs_are_not_ours() {
        assert_eq!(ours(b"dbapi-scan/1\nxyz", SCAN_MAGIC), Some(&b"xyz"[..]));
        assert_eq!(ours(b"dbapi-scan/1", SCAN_MAGIC), None);
        assert_eq!(ours(b"\x0a\x02hi", TABLE_MAGIC), None);
    }

    #[test]
    fn a_garbled_scan_is_an_error_not_a_panic() {
        let codec = DbapiCodec::new();
        let ctx = TaskContext::default();
        let converter = datafusion_proto::physical_plan::DefaultPhysicalProtoConverter {};
        for tail in [&b"\xff\xff\xff"[..], b"", b"\x1a\x05abc"] {
            let bytes = [SCAN_MAGIC, tail].concat();
            let e = PhysicalExtensionCodec::try_decode(&codec, &bytes, &[], &ctx, &converter)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("dbapi scan"), "{e}");
        }
    }
}
