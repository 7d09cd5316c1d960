//! The layout check: what the nodes and buffers of a record batch message must hold for the
//! fields they encode, checked before Arrow's decoder builds arrays from them.
//!
//! Arrow's decoder hands a message's buffers to array constructors that assert instead of
//! answering an error: a validity bitmap shorter than its array, a buffer of fixed-width
//! values (offsets, views, dictionary keys, numbers) whose length is not a whole number of
//! values, a union's type ids or offsets shorter than the union (or its offsets not aligned
//! to their width), variadic buffer counts that do not match the view columns. The walk below
//! follows the decoder's own order (one node per array, the buffers of each type) over the
//! sizes the buffers decode to, so that each of those becomes an error naming the column.

use arrow::datatypes::{DataType, UnionMode};
use arrow::ipc::{CompressionType, MetadataVersion};

/// How the buffers of one message decode.
#[derive(Clone, Copy)]
pub(super) struct Body<'a> {
    /// The message body.
    pub(super) bytes: &'a [u8],
    /// The compression of its buffers, if any.
    pub(super) compression: Option<CompressionType>,
    /// The metadata version (unions carry a validity buffer before V5).
    pub(super) version: MetadataVersion,
}

/// Checks the layout of `batch` against the columns it encodes. The buffers are already
/// known to lie inside the body with well-formed length prefixes (the guard checked them).
///
/// # Errors
/// A description of the first mismatch, naming the column.
pub(super) fn check<'a>(
    batch: &arrow::ipc::RecordBatch<'_>,
    columns: &[(&'a str, &'a DataType)],
    body: Body<'a>,
) -> Result<(), String> {
    let mut walk = Walk {
        nodes: batch
            .nodes()
            .map(|n| n.iter().copied().collect())
            .unwrap_or_default(),
        buffers: batch
            .buffers()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default(),
        variadic: batch
            .variadicBufferCounts()
            .map(|c| c.iter().collect())
            .unwrap_or_default(),
        next_node: 0,
        next_buffer: 0,
        next_variadic: 0,
        body,
        column: "",
    };
    for (name, data_type) in columns {
        walk.column = name;
        walk.array(data_type)?;
    }
    if walk.next_variadic != walk.variadic.len() {
        return Err(format!(
            "the message declares {} variadic buffer counts for {} view columns",
            walk.variadic.len(),
            walk.next_variadic
        ));
    }
    Ok(())
}

struct Walk<'a> {
    nodes: Vec<arrow::ipc::FieldNode>,
    buffers: Vec<arrow::ipc::Buffer>,
    variadic: Vec<i64>,
    next_node: usize,
    next_buffer: usize,
    next_variadic: usize,
    body: Body<'a>,
    column: &'a str,
}

/// An array's length and null count, as its node declares them.
#[derive(Clone, Copy)]
struct Node {
    length: usize,
    null_count: usize,
}

/// One buffer: its offset in the body and the length it decodes to.
#[derive(Clone, Copy)]
struct Decoded {
    offset: usize,
    length: usize,
    /// Whether the decoded bytes are the body's own (not decompressed into a new buffer).
    in_body: bool,
}

impl<'a> Walk<'a> {
    fn array(&mut self, data_type: &'a DataType) -> Result<(), String> {
        use DataType::*;
        match data_type {
            Null => {
                self.node()?;
            }
            Utf8 | Binary => self.with_offsets(4, true)?,
            LargeUtf8 | LargeBinary => self.with_offsets(8, true)?,
            Utf8View | BinaryView => {
                let count = self.variadic_count()?;
                let node = self.node()?;
                self.validity(node)?;
                self.fixed(16, "views")?;
                for _ in 0..count {
                    self.buffer()?;
                }
            }
            FixedSizeBinary(_) | Boolean => {
                let node = self.node()?;
                self.validity(node)?;
                self.buffer()?;
            }
            List(child) | Map(child, _) => {
                self.with_offsets(4, false)?;
                self.array(child.data_type())?;
            }
            LargeList(child) => {
                self.with_offsets(8, false)?;
                self.array(child.data_type())?;
            }
            ListView(child) | LargeListView(child) => {
                let width = if matches!(data_type, ListView(_)) {
                    4
                } else {
                    8
                };
                let node = self.node()?;
                self.validity(node)?;
                self.fixed(width, "offsets")?;
                self.fixed(width, "sizes")?;
                self.array(child.data_type())?;
            }
            FixedSizeList(child, _) => {
                let node = self.node()?;
                self.validity(node)?;
                self.array(child.data_type())?;
            }
            Struct(children) => {
                let node = self.node()?;
                self.validity(node)?;
                for child in children {
                    self.array(child.data_type())?;
                }
            }
            RunEndEncoded(run_ends, values) => {
                self.node()?;
                self.array(run_ends.data_type())?;
                self.array(values.data_type())?;
            }
            Dictionary(key, _) => {
                let node = self.node()?;
                self.validity(node)?;
                self.fixed(key.primitive_width().unwrap_or(1), "dictionary keys")?;
            }
            Union(children, mode) => {
                let node = self.node()?;
                if self.body.version < MetadataVersion::V5 {
                    self.buffer()?;
                }
                let type_ids = self.buffer()?;
                self.at_least(type_ids, node.length, "type ids")?;
                if *mode == UnionMode::Dense {
                    let offsets = self.buffer()?;
                    self.at_least(offsets, node.length.saturating_mul(4), "offsets")?;
                    if offsets.in_body && !offsets.offset.is_multiple_of(4) {
                        return Err(self.bad(format!(
                            "a union's offsets start at byte {}, not aligned to 4",
                            offsets.offset
                        )));
                    }
                }
                for (_, child) in children.iter() {
                    self.array(child.data_type())?;
                }
            }
            other => {
                let node = self.node()?;
                self.validity(node)?;
                match other.primitive_width() {
                    Some(width) => self.fixed(width, "values")?,
                    None => {
                        self.buffer()?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A node, a validity bitmap and offsets of `width` bytes, then a buffer of values (the
    /// binary and string types) or nothing more (the list types, whose values are a child).
    fn with_offsets(&mut self, width: usize, values: bool) -> Result<(), String> {
        let node = self.node()?;
        self.validity(node)?;
        self.fixed(width, "offsets")?;
        if values {
            self.buffer()?;
        }
        Ok(())
    }

    fn node(&mut self) -> Result<Node, String> {
        let node =
            self.nodes.get(self.next_node).copied().ok_or_else(|| {
                self.bad("the message has fewer nodes than its schema needs".into())
            })?;
        self.next_node += 1;
        let (length, null_count) = (node.length(), node.null_count());
        match (usize::try_from(length), usize::try_from(null_count)) {
            (Ok(length), Ok(null_count)) if null_count <= length => Ok(Node { length, null_count }),
            _ => Err(self.bad(format!(
                "an array declares {length} values of which {null_count} are null"
            ))),
        }
    }

    fn buffer(&mut self) -> Result<Decoded, String> {
        let buffer = self.buffers.get(self.next_buffer).copied().ok_or_else(|| {
            self.bad("the message has fewer buffers than its schema needs".into())
        })?;
        self.next_buffer += 1;
        // The guard checked both against the body before this walk.
        let (offset, length) = (buffer.offset() as usize, buffer.length() as usize);
        let bytes = self
            .body
            .bytes
            .get(offset..offset + length)
            .unwrap_or_default();
        let decoded = match (self.body.compression, bytes.get(..8)) {
            (None, _) => Decoded {
                offset,
                length,
                in_body: true,
            },
            (Some(_), _) if bytes.is_empty() => Decoded {
                offset,
                length: 0,
                in_body: true,
            },
            (Some(_), Some(prefix)) => {
                let mut raw = [0_u8; 8];
                raw.copy_from_slice(prefix);
                match i64::from_le_bytes(raw) {
                    -1 => Decoded {
                        offset: offset + 8,
                        length: length - 8,
                        in_body: true,
                    },
                    declared => Decoded {
                        offset: 0,
                        length: usize::try_from(declared).unwrap_or(usize::MAX),
                        in_body: false,
                    },
                }
            }
            (Some(_), None) => {
                return Err(self.bad("a compressed buffer without its length prefix".into()));
            }
        };
        Ok(decoded)
    }

    /// A validity bitmap: when the array has nulls, one bit per value.
    fn validity(&mut self, node: Node) -> Result<(), String> {
        let bitmap = self.buffer()?;
        if node.null_count > 0 {
            self.at_least(bitmap, node.length.div_ceil(8), "validity bitmap")?;
        }
        Ok(())
    }

    /// A buffer of values `width` bytes wide: a whole number of them.
    fn fixed(&mut self, width: usize, what: &str) -> Result<(), String> {
        let buffer = self.buffer()?;
        if width > 1 && !buffer.length.is_multiple_of(width) {
            return Err(self.bad(format!(
                "a buffer of {what} holds {} bytes, not a whole number of {width}-byte values",
                buffer.length
            )));
        }
        Ok(())
    }

    fn at_least(&self, buffer: Decoded, needed: usize, what: &str) -> Result<(), String> {
        if buffer.length < needed {
            return Err(self.bad(format!(
                "its {what} hold {} bytes where {needed} are needed",
                buffer.length
            )));
        }
        Ok(())
    }

    fn variadic_count(&mut self) -> Result<usize, String> {
        let count = self
            .variadic
            .get(self.next_variadic)
            .copied()
            .ok_or_else(|| self.bad("a view column without its variadic buffer count".into()))?;
        self.next_variadic += 1;
        usize::try_from(count)
            .ok()
            .filter(|c| *c <= self.buffers.len())
            .ok_or_else(|| self.bad(format!("a variadic buffer count of {count}")))
    }

    fn bad(&self, what: String) -> String {
        format!("column {:?}: {what}", self.column)
    }
}
