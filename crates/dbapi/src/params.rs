//! Statement parameters.

use crate::Value;

/// The parameters of a statement: none, positional (`?`, `$1`) or named (`$name`, `:name`).
///
/// The placeholder syntax is the server's; the driver binds the values in the order or under
/// the names given here.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum Params {
    /// No parameters.
    #[default]
    None,
    /// Values bound by position.
    Positional(Vec<Value>),
    /// Values bound by name (without the placeholder's sigil).
    Named(Vec<(String, Value)>),
}

impl Params {
    /// Whether there are no parameter values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of parameter values.
    pub fn len(&self) -> usize {
        match self {
            Params::None => 0,
            Params::Positional(v) => v.len(),
            Params::Named(v) => v.len(),
        }
    }
}

impl From<()> for Params {
    fn from((): ()) -> Self {
        Params::None
    }
}

impl From<Vec<Value>> for Params {
    fn from(values: Vec<Value>) -> Self {
        Params::Positional(values)
    }
}

impl<const N: usize> From<[Value; N]> for Params {
    fn from(values: [Value; N]) -> Self {
        Params::Positional(values.into())
    }
}

impl From<Vec<(String, Value)>> for Params {
    fn from(values: Vec<(String, Value)>) -> Self {
        Params::Named(values)
    }
}

impl<T: Into<Value>> From<Vec<(&str, T)>> for Params {
    fn from(values: Vec<(&str, T)>) -> Self {
        Params::Named(
            values
                .into_iter()
                .map(|(name, v)| (name.to_owned(), v.into()))
                .collect(),
        )
    }
}

/// Statement parameters from a list of values: `params![7, "alice", None::<i64>]` binds by
/// position, `params!{"id" => 7, "name" => "alice"}` by name, `params![]` binds nothing.
/// Each value is anything that converts [`Into`] a [`Value`](crate::Value); an integer literal
/// without a suffix is an `i32`, as everywhere in Rust (`7_i64` for an `Int64`).
///
/// ```
/// use dbapi::{Params, Value, params};
///
/// assert_eq!(params![], Params::None);
/// assert_eq!(
///     params![7, "alice", None::<i64>],
///     Params::Positional(vec![Value::Int32(7), Value::String("alice".into()), Value::Null]),
/// );
/// assert_eq!(
///     params! {"id" => 7_i64, "name" => "alice"},
///     Params::Named(vec![
///         ("id".into(), Value::Int64(7)),
///         ("name".into(), Value::String("alice".into())),
///     ]),
/// );
/// ```
#[macro_export]
macro_rules! params {
    () => {
        $crate::Params::None
    };
    ($($name:literal => $value:expr),+ $(,)?) => {
        $crate::Params::Named(::std::vec![
            $((::std::string::String::from($name), $crate::Value::from($value))),+
        ])
    };
    ($($value:expr),+ $(,)?) => {
        $crate::Params::Positional(::std::vec![$($crate::Value::from($value)),+])
    };
}

/// Tuples of values bind by position: `cursor.execute(sql, (42, "alice").into())`.
macro_rules! tuple_params {
    ($(($($t:ident $v:ident),+)),+ $(,)?) => {$(
        impl<$($t: Into<Value>),+> From<($($t,)+)> for Params {
            fn from(($($v,)+): ($($t,)+)) -> Self {
                Params::Positional(vec![$($v.into()),+])
            }
        }
    )+};
}

tuple_params!(
    (A a),
    (A a, B b),
    (A a, B b, C c),
    (A a, B b, C c, D d),
    (A a, B b, C c, D d, E e),
    (A a, B b, C c, D d, E e, F f),
    (A a, B b, C c, D d, E e, F f, G g),
    (A a, B b, C c, D d, E e, F f, G g, H h),
    (A a, B b, C c, D d, E e, F f, G g, H h, I i),
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j),
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k),
    (A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(Params::from(()).is_empty());
        assert_eq!(Params::from([Value::Int32(1), Value::Null]).len(), 2);
        assert_eq!(
            Params::from(vec![("a".to_owned(), Value::Bool(true))]).len(),
            1
        );
    }

    #[test]
    fn tuples_and_named_pairs_convert_each_value() {
        let p = Params::from((42, "alice", None::<f64>, 2.5_f32));
        assert_eq!(
            p,
            Params::Positional(vec![
                Value::Int32(42),
                Value::String("alice".into()),
                Value::Null,
                Value::Float32(2.5),
            ])
        );
        let p = Params::from(vec![("id", 7_i64), ("limit", 10)]);
        assert_eq!(
            p,
            Params::Named(vec![
                ("id".into(), Value::Int64(7)),
                ("limit".into(), Value::Int64(10)),
            ])
        );
    }
}
