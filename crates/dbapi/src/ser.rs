//! `serde` serialization of user types into statement parameters ([`Params::from_serialize`]).
//!
//! A struct or a map binds by name (its field names, or its keys, which must be text); a
//! tuple, a tuple struct or a sequence binds by position; a unit or `None` binds nothing; any
//! other value binds as the one positional parameter. Inside, values map to [`Value`] as
//! `serde` describes them: integers and floats as their own width, `char` and text as
//! `String`, bytes (`serde_bytes`) as `Binary`, `None` and units as `Null`, a unit enum
//! variant as its name, nested sequences as `List` and nested structs or maps as `Struct`.
//! Types `serde` has no form for arrive in their `Serialize` form: chrono's timestamps as
//! RFC 3339 text, which servers cast where a timestamp is expected; bind a [`Value`] (with
//! [`params!`](crate::params)) for an exact Arrow type.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use crate::{Error, Params, Result, Value};

/// The error of a serialization, before it is turned into an [`Error`].
#[derive(Debug)]
pub(crate) struct SerError(String);

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError(msg.to_string())
    }
}

fn unsupported(what: &str) -> SerError {
    SerError(format!("{what} cannot be a parameter value"))
}

/// `value` as statement parameters; see the [module](self) documentation.
pub(crate) fn to_params<T: Serialize + ?Sized>(value: &T) -> Result<Params> {
    let value = to_value(value)?;
    Ok(match value {
        Value::Null => Params::None,
        Value::Struct(fields) => Params::Named(fields),
        Value::List(items) => Params::Positional(items),
        other => Params::Positional(vec![other]),
    })
}

/// `value` as one [`Value`].
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    value.serialize(ValueSerializer).map_err(|e| {
        Error::programming(format!("cannot serialize the parameters: {e}")).with_source(e)
    })
}

/// Serializes one value into a [`Value`].
struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Impossible<Value, SerError>;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Value, SerError>;

    fn serialize_bool(self, v: bool) -> Result<Value, SerError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, SerError> {
        Ok(Value::Int8(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, SerError> {
        Ok(Value::Int16(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, SerError> {
        Ok(Value::Int32(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, SerError> {
        Ok(Value::Int64(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, SerError> {
        i64::try_from(v).map(Value::Int64).map_err(|_| {
            SerError(format!(
                "the i128 {v} is out of the range of the widest integer parameter (Int64)"
            ))
        })
    }
    fn serialize_u8(self, v: u8) -> Result<Value, SerError> {
        Ok(Value::UInt8(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, SerError> {
        Ok(Value::UInt16(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, SerError> {
        Ok(Value::UInt32(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, SerError> {
        Ok(Value::UInt64(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, SerError> {
        u64::try_from(v).map(Value::UInt64).map_err(|_| {
            SerError(format!(
                "the u128 {v} is out of the range of the widest integer parameter (UInt64)"
            ))
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, SerError> {
        Ok(Value::Float32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, SerError> {
        Ok(Value::Float64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, SerError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerError> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, SerError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, SerError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, SerError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<Value, SerError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} holding data"
        )))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, SerError> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, SerError> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, SerError> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} holding data"
        )))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Fields, SerError> {
        Ok(Fields {
            fields: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields, SerError> {
        Ok(Fields {
            fields: Vec::with_capacity(len),
            key: None,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(unsupported(&format!(
            "the enum variant {name}::{variant} holding data"
        )))
    }
}

/// The elements of a sequence or tuple, as a `List`.
struct Seq(Vec<Value>);

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.0.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::List(self.0))
    }
}

/// The fields of a struct, or the entries of a map with text keys, as a `Struct`.
struct Fields {
    fields: Vec<(String, Value)>,
    key: Option<String>,
}

impl ser::SerializeStruct for Fields {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        let value = value
            .serialize(ValueSerializer)
            .map_err(|e| SerError(format!("field `{name}`: {e}")))?;
        self.fields.push((name.to_owned(), value));
        Ok(())
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Struct(self.fields))
    }
}

impl ser::SerializeMap for Fields {
    type Ok = Value;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        match key.serialize(ValueSerializer)? {
            Value::String(name) => {
                self.key = Some(name);
                Ok(())
            }
            other => Err(SerError(format!(
                "a map key must be text to name a parameter, not {}",
                other.type_name()
            ))),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let name = self
            .key
            .take()
            .ok_or_else(|| SerError("a map value without its key".to_owned()))?;
        let value = value
            .serialize(ValueSerializer)
            .map_err(|e| SerError(format!("key {name:?}: {e}")))?;
        self.fields.push((name, value));
        Ok(())
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Struct(self.fields))
    }
}

impl Params {
    /// Parameters from any `serde::Serialize` value: a struct or a map binds by name, a tuple
    /// or a sequence by position, a unit or `None` binds nothing, anything else is the one
    /// positional parameter. Values map as their `Serialize` form describes them (chrono's
    /// timestamps as RFC 3339 text, an enum's unit variant as its name).
    ///
    /// ```
    /// use dbapi::{Params, Value};
    ///
    /// #[derive(serde::Serialize)]
    /// struct NewReading<'a> {
    ///     sensor: &'a str,
    ///     temperature: Option<f64>,
    /// }
    ///
    /// let p = Params::from_serialize(&NewReading { sensor: "s1", temperature: None })?;
    /// assert_eq!(
    ///     p,
    ///     Params::Named(vec![
    ///         ("sensor".into(), Value::String("s1".into())),
    ///         ("temperature".into(), Value::Null),
    ///     ])
    /// );
    /// assert_eq!(Params::from_serialize(&(1_i64, "a"))?.len(), 2);
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// An [`ErrorKind::Programming`](crate::ErrorKind::Programming) error naming the field
    /// for what has no parameter form: an enum variant holding data, a map key that is not
    /// text, a 128-bit integer beyond 64 bits.
    #[doc(alias = "to_params")]
    pub fn from_serialize<T: serde::Serialize + ?Sized>(value: &T) -> crate::Result<Params> {
        to_params(value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(serde::Serialize)]
    struct Reading<'a> {
        sensor: &'a str,
        temperature: Option<f64>,
        count: u32,
        kind: Kind,
    }

    #[derive(serde::Serialize)]
    enum Kind {
        Indoor,
    }

    #[test]
    fn structs_bind_by_name_in_field_order() {
        let p = Params::from_serialize(&Reading {
            sensor: "s1",
            temperature: None,
            count: 3,
            kind: Kind::Indoor,
        })
        .unwrap();
        assert_eq!(
            p,
            Params::Named(vec![
                ("sensor".into(), Value::String("s1".into())),
                ("temperature".into(), Value::Null),
                ("count".into(), Value::UInt32(3)),
                ("kind".into(), Value::String("Indoor".into())),
            ])
        );
    }

    #[test]
    fn tuples_bind_by_position_and_units_bind_nothing() {
        let p = Params::from_serialize(&(7_i64, "x", Some(2.5_f32))).unwrap();
        assert_eq!(
            p,
            Params::Positional(vec![
                Value::Int64(7),
                Value::String("x".into()),
                Value::Float32(2.5)
            ])
        );
        assert_eq!(Params::from_serialize(&()).unwrap(), Params::None);
        assert_eq!(
            Params::from_serialize(&42_i16).unwrap(),
            Params::Positional(vec![Value::Int16(42)])
        );
        assert_eq!(
            Params::from_serialize(&vec![vec![1_u8, 2]]).unwrap(),
            Params::Positional(vec![Value::List(vec![Value::UInt8(1), Value::UInt8(2)])])
        );
    }

    #[test]
    fn maps_need_text_keys() {
        let named: BTreeMap<&str, i32> = [("a", 1), ("b", 2)].into();
        assert_eq!(
            Params::from_serialize(&named).unwrap(),
            Params::Named(vec![
                ("a".into(), Value::Int32(1)),
                ("b".into(), Value::Int32(2))
            ])
        );
        let numbered: BTreeMap<i32, i32> = [(1, 1)].into();
        let e = Params::from_serialize(&numbered).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Programming);
        assert!(e.to_string().contains("map key must be text"), "{e}");
    }

    #[test]
    fn what_has_no_parameter_form_is_named() {
        #[derive(serde::Serialize)]
        enum Shape {
            Circle(f64),
        }
        #[derive(serde::Serialize)]
        struct Outer {
            shape: Shape,
        }
        let e = Params::from_serialize(&Outer {
            shape: Shape::Circle(1.0),
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("field `shape`: the enum variant Shape::Circle holding data"),
            "{e}"
        );
        let e = Params::from_serialize(&u128::MAX).unwrap_err();
        assert!(e.to_string().contains("out of the range"), "{e}");
    }
}
