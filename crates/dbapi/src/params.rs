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
}
