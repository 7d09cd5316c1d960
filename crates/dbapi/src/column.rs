//! Column descriptions: the entries of a cursor's PEP 249 `description`.

use arrow::datatypes::{DataType, Field, IntervalUnit};

/// The PEP 249 type category of a column (`STRING`, `BINARY`, `NUMBER`, `DATETIME`, `ROWID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeCode {
    /// Character data (`Utf8`, `LargeUtf8`, `Utf8View`).
    String,
    /// Binary data (`Binary`, `LargeBinary`, `BinaryView`, `FixedSizeBinary`).
    Binary,
    /// Numbers, booleans and decimals.
    Number,
    /// Dates, times, timestamps, durations and intervals.
    Datetime,
    /// Row identifiers. Arrow has no such type; no Flight SQL column has this code.
    RowId,
    /// Types PEP 249 has no category for: nested types (lists, structs, maps, unions) and `Null`.
    Other,
}

impl TypeCode {
    /// The category of an Arrow type (dictionary and run-end encoded types take their value
    /// type's category).
    pub fn of(data_type: &DataType) -> TypeCode {
        match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => TypeCode::String,
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => TypeCode::Binary,
            DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => TypeCode::Number,
            DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Timestamp(..)
            | DataType::Duration(_)
            | DataType::Interval(_) => TypeCode::Datetime,
            DataType::Dictionary(_, value) => TypeCode::of(value),
            DataType::RunEndEncoded(_, value) => TypeCode::of(value.data_type()),
            _ => TypeCode::Other,
        }
    }
}

/// One column of a result: an entry of the PEP 249 `cursor.description`.
///
/// Built from the Arrow field of the result schema ([`Column::from_field`]); a driver adds
/// what its server says beyond the Arrow type (the SQL type name, the column's table...) with
/// the `with_*` methods.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    name: String,
    data_type: DataType,
    type_code: TypeCode,
    display_size: Option<usize>,
    internal_size: Option<usize>,
    precision: Option<u32>,
    scale: Option<i32>,
    nullable: bool,
    type_name: Option<String>,
    catalog_name: Option<String>,
    schema_name: Option<String>,
    table_name: Option<String>,
}

impl Column {
    /// Describes an Arrow field from its name, type and nullability (decimal types give the
    /// precision and scale).
    pub fn from_field(field: &Field) -> Column {
        let data_type = field.data_type().clone();
        let (precision, scale) = match &data_type {
            DataType::Decimal32(p, s)
            | DataType::Decimal64(p, s)
            | DataType::Decimal128(p, s)
            | DataType::Decimal256(p, s) => (Some(u32::from(*p)), Some(i32::from(*s))),
            _ => (None, None),
        };
        Column {
            name: field.name().clone(),
            type_code: TypeCode::of(&data_type),
            display_size: display_size(&data_type),
            internal_size: internal_size(&data_type),
            precision,
            scale,
            nullable: field.is_nullable(),
            type_name: None,
            catalog_name: None,
            schema_name: None,
            table_name: None,
            data_type,
        }
    }

    /// Sets the precision (kept when the Arrow type already gives one).
    pub fn with_precision(mut self, precision: u32) -> Self {
        self.precision.get_or_insert(precision);
        self
    }

    /// Sets the scale (kept when the Arrow type already gives one).
    pub fn with_scale(mut self, scale: i32) -> Self {
        self.scale.get_or_insert(scale);
        self
    }

    /// Sets the server's name for the column type.
    pub fn with_type_name(mut self, name: impl Into<String>) -> Self {
        self.type_name = Some(name.into());
        self
    }

    /// Sets the catalog of the column's table.
    pub fn with_catalog_name(mut self, name: impl Into<String>) -> Self {
        self.catalog_name = Some(name.into());
        self
    }

    /// Sets the schema of the column's table.
    pub fn with_schema_name(mut self, name: impl Into<String>) -> Self {
        self.schema_name = Some(name.into());
        self
    }

    /// Sets the column's table.
    pub fn with_table_name(mut self, name: impl Into<String>) -> Self {
        self.table_name = Some(name.into());
        self
    }

    /// The column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Arrow type of the column.
    pub fn data_type(&self) -> &DataType {
        &self.data_type
    }

    /// The PEP 249 type category.
    pub fn type_code(&self) -> TypeCode {
        self.type_code
    }

    /// The maximum number of characters needed to display a value, when the type bounds it.
    pub fn display_size(&self) -> Option<usize> {
        self.display_size
    }

    /// The size in bytes of one value, for fixed-width types.
    pub fn internal_size(&self) -> Option<usize> {
        self.internal_size
    }

    /// The precision: of the decimal type, or as the server reports it in metadata.
    pub fn precision(&self) -> Option<u32> {
        self.precision
    }

    /// The scale: of the decimal type, or as the server reports it in metadata.
    pub fn scale(&self) -> Option<i32> {
        self.scale
    }

    /// Whether the column may hold NULL.
    pub fn nullable(&self) -> bool {
        self.nullable
    }

    /// The server's name for the column type, when the driver knows it.
    pub fn type_name(&self) -> Option<&str> {
        self.type_name.as_deref()
    }

    /// The catalog of the column's table, when the driver knows it.
    pub fn catalog_name(&self) -> Option<&str> {
        self.catalog_name.as_deref()
    }

    /// The schema of the column's table, when the driver knows it.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema_name.as_deref()
    }

    /// The column's table, when the driver knows it.
    pub fn table_name(&self) -> Option<&str> {
        self.table_name.as_deref()
    }
}

fn internal_size(data_type: &DataType) -> Option<usize> {
    match data_type {
        DataType::Boolean => Some(1),
        DataType::FixedSizeBinary(n) => usize::try_from(*n).ok(),
        DataType::Interval(IntervalUnit::YearMonth) => Some(4),
        DataType::Interval(IntervalUnit::DayTime) => Some(8),
        DataType::Interval(IntervalUnit::MonthDayNano) => Some(16),
        dt => dt.primitive_width(),
    }
}

fn display_size(data_type: &DataType) -> Option<usize> {
    Some(match data_type {
        DataType::Boolean => 5,
        DataType::Int8 => 4,
        DataType::Int16 => 6,
        DataType::Int32 => 11,
        DataType::Int64 => 20,
        DataType::UInt8 => 3,
        DataType::UInt16 => 5,
        DataType::UInt32 => 10,
        DataType::UInt64 => 20,
        // sign, digits, point
        DataType::Decimal32(p, _)
        | DataType::Decimal64(p, _)
        | DataType::Decimal128(p, _)
        | DataType::Decimal256(p, _) => usize::from(*p) + 2,
        DataType::Date32 | DataType::Date64 => 10,
        DataType::FixedSizeBinary(n) => usize::try_from(*n).ok()? * 2 + 2,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_column_has_precision_and_scale() {
        let c = Column::from_field(&Field::new("d", DataType::Decimal128(12, 2), false));
        assert_eq!(c.type_code(), TypeCode::Number);
        assert_eq!((c.precision(), c.scale()), (Some(12), Some(2)));
        assert_eq!(c.internal_size(), Some(16));
        assert_eq!(c.display_size(), Some(14));
        assert!(!c.nullable());
    }

    #[test]
    fn drivers_add_what_the_arrow_type_does_not_say() {
        let c = Column::from_field(&Field::new("s", DataType::Utf8, true))
            .with_table_name("t")
            .with_type_name("VARCHAR")
            .with_precision(255);
        assert_eq!(c.table_name(), Some("t"));
        assert_eq!(c.type_name(), Some("VARCHAR"));
        assert_eq!(c.precision(), Some(255));
        assert_eq!(c.type_code(), TypeCode::String);
        assert_eq!(c.catalog_name(), None);
        let d = Column::from_field(&Field::new("d", DataType::Decimal128(12, 2), false))
            .with_precision(5);
        assert_eq!(d.precision(), Some(12), "the Arrow type wins");
    }

    #[test]
    fn dictionary_takes_value_category() {
        let dt = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(TypeCode::of(&dt), TypeCode::String);
        assert_eq!(TypeCode::of(&DataType::Null), TypeCode::Other);
    }
}
