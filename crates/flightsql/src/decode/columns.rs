//! Column descriptions from Flight SQL result fields: the Arrow type, plus the
//! `ARROW:FLIGHT:SQL:*` field metadata servers may send.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use dbapi::Column;

/// Metadata keys that Flight SQL servers set on result fields.
pub(crate) mod keys {
    pub const CATALOG_NAME: &str = "ARROW:FLIGHT:SQL:CATALOG_NAME";
    pub const DB_SCHEMA_NAME: &str = "ARROW:FLIGHT:SQL:DB_SCHEMA_NAME";
    pub const TABLE_NAME: &str = "ARROW:FLIGHT:SQL:TABLE_NAME";
    pub const TYPE_NAME: &str = "ARROW:FLIGHT:SQL:TYPE_NAME";
    pub const PRECISION: &str = "ARROW:FLIGHT:SQL:PRECISION";
    pub const SCALE: &str = "ARROW:FLIGHT:SQL:SCALE";
    pub const REMARKS: &str = "ARROW:FLIGHT:SQL:REMARKS";
}

/// Describes a field, enriched by its `ARROW:FLIGHT:SQL:*` metadata.
pub(crate) fn column(field: &Field) -> Column {
    let meta = field.metadata();
    let text = |key: &str| meta.get(key).filter(|v| !v.is_empty()).cloned();
    let mut column = Column::from_field(field);
    if let Some(p) = meta.get(keys::PRECISION).and_then(|v| v.parse().ok()) {
        column = column.with_precision(p);
    }
    if let Some(s) = meta.get(keys::SCALE).and_then(|v| v.parse().ok()) {
        column = column.with_scale(s);
    }
    if let Some(v) = text(keys::TYPE_NAME) {
        column = column.with_type_name(v);
    }
    if let Some(v) = text(keys::CATALOG_NAME) {
        column = column.with_catalog_name(v);
    }
    if let Some(v) = text(keys::DB_SCHEMA_NAME) {
        column = column.with_schema_name(v);
    }
    if let Some(v) = text(keys::TABLE_NAME) {
        column = column.with_table_name(v);
    }
    column
}

/// Describes every field of a result schema.
pub(crate) fn describe(schema: &Schema) -> Arc<[Column]> {
    schema.fields().iter().map(|f| column(f)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::datatypes::DataType;
    use dbapi::TypeCode;

    use super::*;

    #[test]
    fn flight_sql_metadata_is_read() {
        let meta = HashMap::from([
            (keys::TABLE_NAME.to_owned(), "t".to_owned()),
            (keys::TYPE_NAME.to_owned(), "VARCHAR".to_owned()),
            (keys::PRECISION.to_owned(), "255".to_owned()),
            (keys::CATALOG_NAME.to_owned(), String::new()),
        ]);
        let c = column(&Field::new("s", DataType::Utf8, true).with_metadata(meta));
        assert_eq!(c.table_name(), Some("t"));
        assert_eq!(c.type_name(), Some("VARCHAR"));
        assert_eq!(c.precision(), Some(255));
        assert_eq!(c.type_code(), TypeCode::String);
        assert_eq!(c.catalog_name(), None, "empty values are absent");
    }
}
