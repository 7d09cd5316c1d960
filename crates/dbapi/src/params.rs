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

/// The parameter sets of an `executemany`: a `Vec` of them, or any iterator, read a chunk at a
/// time so that only one chunk is in memory.
///
/// Drivers send each chunk as one execution (for Flight SQL, one `DoPut` of one parameter
/// batch): at most [`DEFAULT_CHUNK_ROWS`] sets or about [`DEFAULT_CHUNK_BYTES`] of values
/// per chunk, whichever comes first ([`ParamSets::with_chunk_rows`] and
/// [`ParamSets::with_chunk_bytes`] change them).
///
/// ```
/// use dbapi::{ParamSets, Params, params};
///
/// // Ten million rows, never all in memory.
/// let sets = ParamSets::new((0..10_000_000_i64).map(|i| params![i, format!("sensor-{i}")]));
/// // A vector as before.
/// let sets: ParamSets = vec![params![1_i64], params![2_i64]].into();
/// ```
pub struct ParamSets<'a> {
    sets: Box<dyn Iterator<Item = crate::Result<Params>> + Send + 'a>,
    chunk_rows: usize,
    chunk_bytes: usize,
}

/// The most parameter sets in one chunk of [`ParamSets`] by default: 65,536.
pub const DEFAULT_CHUNK_ROWS: usize = 65_536;

/// About the most bytes of values in one chunk of [`ParamSets`] by default: 16 MiB.
pub const DEFAULT_CHUNK_BYTES: usize = 16 << 20;

impl<'a> ParamSets<'a> {
    /// Parameter sets from any iterator of values convertible to [`Params`].
    pub fn new<I>(sets: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Params> + 'a,
        I::IntoIter: Send + 'a,
    {
        ParamSets::try_new(sets.into_iter().map(Ok))
    }

    /// Parameter sets from an iterator that may fail: the first error ends the
    /// `executemany` (the chunks before it have run) and is its error.
    pub fn try_new<I, P>(sets: I) -> Self
    where
        I: IntoIterator<Item = crate::Result<P>>,
        P: Into<Params> + 'a,
        I::IntoIter: Send + 'a,
    {
        ParamSets {
            sets: Box::new(sets.into_iter().map(|set| set.map(Into::into))),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }

    /// Parameter sets from any iterator of `serde::Serialize` values, each through
    /// [`Params::from_serialize`] as it is reached.
    ///
    /// ```
    /// use dbapi::ParamSets;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Reading {
    ///     sensor: String,
    ///     temperature: f64,
    /// }
    ///
    /// let readings = (0..1_000_000).map(|i| Reading { sensor: format!("s{i}"), temperature: 20.5 });
    /// let sets = ParamSets::from_serialize(readings);
    /// ```
    pub fn from_serialize<I>(sets: I) -> Self
    where
        I: IntoIterator,
        I::Item: serde::Serialize,
        I::IntoIter: Send + 'a,
    {
        ParamSets::try_new(sets.into_iter().map(|set| Params::from_serialize(&set)))
    }

    /// At most `rows` parameter sets per chunk (0 is taken as 1).
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// A chunk ends once its values hold about `bytes` bytes (a chunk always has at least
    /// one set).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes;
        self
    }

    /// The next chunk of parameter sets, `None` at the end.
    ///
    /// # Errors
    /// The error of a set that could not be made (see [`ParamSets::try_new`]); the sets read
    /// before it in the same chunk are dropped with it.
    pub fn next_chunk(&mut self) -> crate::Result<Option<Vec<Params>>> {
        let Some(first) = self.sets.next().transpose()? else {
            return Ok(None);
        };
        let mut bytes = first.approx_size();
        let mut chunk = vec![first];
        while chunk.len() < self.chunk_rows && bytes < self.chunk_bytes {
            let Some(set) = self.sets.next().transpose()? else {
                break;
            };
            bytes += set.approx_size();
            chunk.push(set);
        }
        Ok(Some(chunk))
    }
}

impl std::fmt::Debug for ParamSets<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamSets")
            .field("chunk_rows", &self.chunk_rows)
            .field("chunk_bytes", &self.chunk_bytes)
            .finish_non_exhaustive()
    }
}

impl<'a, P: Into<Params> + Send + 'a> From<Vec<P>> for ParamSets<'a> {
    fn from(sets: Vec<P>) -> Self {
        ParamSets::new(sets)
    }
}

impl Params {
    /// About how many bytes the values take, for chunking.
    fn approx_size(&self) -> usize {
        match self {
            Params::None => 0,
            Params::Positional(values) => values.iter().map(Value::approx_size).sum(),
            Params::Named(values) => values
                .iter()
                .map(|(name, v)| name.len() + v.approx_size())
                .sum(),
        }
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
    fn parameter_sets_come_in_bounded_chunks() {
        let mut sets = ParamSets::new((0..10_i64).map(|i| [Value::Int64(i)])).with_chunk_rows(4);
        let sizes: Vec<usize> =
            std::iter::from_fn(|| sets.next_chunk().unwrap().map(|c| c.len())).collect();
        assert_eq!(sizes, [4, 4, 2]);
        let big = "x".repeat(1000);
        let mut sets =
            ParamSets::new((0..10).map(|_| [Value::from(big.as_str())])).with_chunk_bytes(2500);
        let sizes: Vec<usize> =
            std::iter::from_fn(|| sets.next_chunk().unwrap().map(|c| c.len())).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let mut sets = ParamSets::from(Vec::<Params>::new());
        assert!(sets.next_chunk().unwrap().is_none());
        let mut sets = ParamSets::new([Params::None]).with_chunk_rows(0);
        assert_eq!(sets.next_chunk().unwrap().map(|c| c.len()), Some(1));
    }

    #[test]
    fn a_failing_set_ends_the_chunks_with_its_error() {
        let mut sets = ParamSets::from_serialize(
            (0..5_u128).map(|i| if i == 3 { (u128::MAX,) } else { (i,) }),
        )
        .with_chunk_rows(2);
        assert_eq!(sets.next_chunk().unwrap().map(|c| c.len()), Some(2));
        let e = sets.next_chunk().unwrap_err();
        assert!(e.to_string().contains("out of the range"), "{e}");
    }

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
