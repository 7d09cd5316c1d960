//! The codec: `dbapi` tables and readers of parts in Ballista's plans, by source name.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{DFSchema, DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, Extension, LogicalPlan, ScalarUDF, UserDefinedLogicalNodeCore, WindowUDF,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use dbapi::Connection;
use dbapi::metadata::TableRef;
use dbapi_datafusion::{DbapiScan, DbapiTable, Dialect, RemoteQuery, Totals};
use prost::Message;

use crate::parts::{ClusterTable, DbapiPartsExec};

/// What opens a serialized table.
const TABLE_MAGIC: &[u8] = b"dbapi-table/1\n";
/// What opens a serialized reader of parts.
const PARTS_MAGIC: &[u8] = b"dbapi-parts/1\n";
/// What opens a serialized federated part of a query.
const QUERY_MAGIC: &[u8] = b"dbapi-query/1\n";

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

/// A reader of parts as a plan carries it (the parts are its input, a plan of their own).
#[derive(Clone, PartialEq, Message)]
struct PartsNode {
    #[prost(string, tag = "1")]
    source: String,
    #[prost(string, tag = "2")]
    sql: String,
    #[prost(message, optional, tag = "3")]
    schema: Option<datafusion_proto::protobuf::Schema>,
    /// The result's rows as the server gave them.
    #[prost(uint64, optional, tag = "4")]
    total_rows: Option<u64>,
    /// The result's bytes as the server gave them.
    #[prost(uint64, optional, tag = "5")]
    total_bytes: Option<u64>,
}

/// A federated part of a query ([`RemoteQuery`]) as a plan carries it.
#[derive(Clone, PartialEq, Message)]
struct QueryNode {
    #[prost(string, tag = "1")]
    source: String,
    #[prost(string, tag = "2")]
    sql: String,
    /// Its columns, qualified as the plan above reads them.
    #[prost(message, optional, tag = "3")]
    schema: Option<datafusion_proto::protobuf::DfSchema>,
    /// How many partitions read its result (1: the parts in order).
    #[prost(uint64, tag = "4")]
    partitions: u64,
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
                &self
                    .sources
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
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

/// The schema a serialized `what` carries (it must carry one).
fn schema_of<'a, P, S>(schema: Option<&'a P>, what: &str) -> Result<S>
where
    S: TryFrom<&'a P>,
    S::Error: fmt::Display,
{
    let schema = schema.ok_or_else(|| malformed(what, "it has no schema"))?;
    S::try_from(schema).map_err(|e| malformed(&format!("{what} schema"), e))
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
        let Some(bytes) = ours(buf, QUERY_MAGIC) else {
            return self.logical.try_decode(buf, inputs, ctx);
        };
        let node = QueryNode::decode(bytes).map_err(|e| malformed("dbapi remote query", e))?;
        let schema: DFSchema = schema_of(node.schema.as_ref(), "dbapi remote query")?;
        let partitions =
            usize::try_from(node.partitions).map_err(|e| malformed("dbapi remote query", e))?;
        Ok(Extension {
            node: Arc::new(RemoteQuery::new(
                self.source(&node.source)?,
                node.sql,
                Arc::new(schema),
                partitions,
            )),
        })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        let Some(query) = node.node.as_any().downcast_ref::<RemoteQuery>() else {
            return self.logical.try_encode(node, buf);
        };
        let what = format!("the remote query {:?}", query.sql());
        let schema = datafusion_proto::protobuf::DfSchema::try_from(query.schema())
            .map_err(|e| DataFusionError::Internal(format!("encoding {what}'s schema: {e}")))?;
        let message = QueryNode {
            source: self.name_of(query.connection(), &what)?,
            sql: query.sql().to_owned(),
            schema: Some(schema),
            partitions: query.partitions() as u64,
        };
        encode(QUERY_MAGIC, &message, buf)
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
        // A table decoded here is planned here and read elsewhere: its parts are in the plan.
        Ok(Arc::new(ClusterTable::new(
            DbapiTable::with_schema(conn, table, schema).with_dialect(dialect(&node.quote)?),
        )))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let any = node.as_ref() as &dyn Any;
        let table = match any.downcast_ref::<DbapiTable>() {
            Some(table) => table,
            None => match any.downcast_ref::<ClusterTable>() {
                Some(cluster) => cluster.table(),
                None => return self.logical.try_encode_table_provider(table_ref, node, buf),
            },
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
        let Some(bytes) = ours(buf, PARTS_MAGIC) else {
            return self.physical.try_decode(buf, inputs, ctx, proto_converter);
        };
        let node = PartsNode::decode(bytes).map_err(|e| malformed("dbapi parts reader", e))?;
        let schema: Schema = schema_of(node.schema.as_ref(), "dbapi parts reader")?;
        let [input] = inputs else {
            return Err(malformed(
                "dbapi parts reader",
                format!("it has {} inputs, not one", inputs.len()),
            ));
        };
        Ok(Arc::new(
            DbapiPartsExec::new(
                self.source(&node.source)?,
                node.sql,
                Arc::new(schema),
                Arc::clone(input),
            )
            .with_totals(Totals {
                rows: node.total_rows,
                bytes: node.total_bytes,
            }),
        ))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(scan) = node.downcast_ref::<DbapiScan>() {
            return Err(DataFusionError::Plan(format!(
                "the scan {:?} cannot be sent to other processes as it is: each would read \
                 every part. A cluster's scheduler plans dbapi tables decoded by DbapiCodec, \
                 whose parts are given to the tasks",
                scan.sql()
            )));
        }
        let Some(reader) = node.downcast_ref::<DbapiPartsExec>() else {
            return self.physical.try_encode(node, buf, proto_converter);
        };
        let what = format!("the parts of {:?}", reader.sql());
        let schema = datafusion_proto::protobuf::Schema::try_from(reader.schema().as_ref())
            .map_err(|e| DataFusionError::Internal(format!("encoding {what}'s schema: {e}")))?;
        let message = PartsNode {
            source: self.name_of(reader.connection(), &what)?,
            sql: reader.sql().to_owned(),
            schema: Some(schema),
            total_rows: reader.totals().rows,
            total_bytes: reader.totals().bytes,
        };
        encode(PARTS_MAGIC, &message, buf)
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
        assert_eq!(ours(b"dbapi-parts/1\nxyz", PARTS_MAGIC), Some(&b"xyz"[..]));
        assert_eq!(ours(b"dbapi-parts/1", PARTS_MAGIC), None);
        assert_eq!(ours(b"\x0a\x02hi", TABLE_MAGIC), None);
    }

    #[test]
    fn a_garbled_remote_query_is_an_error_not_a_panic() {
        let codec = DbapiCodec::new();
        let ctx = TaskContext::default();
        let no_schema = QueryNode {
            source: "s".into(),
            sql: "SELECT 1".into(),
            schema: None,
            partitions: 1,
        };
        let tails = [
            b"\xff\xff\xff".to_vec(),
            Vec::new(),
            no_schema.encode_to_vec(),
        ];
        for tail in tails {
            let bytes = [QUERY_MAGIC, &tail].concat();
            let e = LogicalExtensionCodec::try_decode(&codec, &bytes, &[], &ctx)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("dbapi remote query"), "{e}");
        }
    }

    #[test]
    fn a_garbled_parts_reader_is_an_error_not_a_panic() {
        let codec = DbapiCodec::new();
        let ctx = TaskContext::default();
        let converter = datafusion_proto::physical_plan::DefaultPhysicalProtoConverter {};
        for tail in [&b"\xff\xff\xff"[..], b"", b"\x1a\x05abc"] {
            let bytes = [PARTS_MAGIC, tail].concat();
            let e = PhysicalExtensionCodec::try_decode(&codec, &bytes, &[], &ctx, &converter)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("dbapi parts reader"), "{e}");
        }
    }
}
