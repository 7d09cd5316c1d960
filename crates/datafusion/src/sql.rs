//! The remote SQL of a scan: the projected columns, the filters the remote server can run and
//! the limit, written by DataFusion's unparser in a dialect chosen from the server.

use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Expr, Operator};
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{CustomDialect, CustomDialectBuilder};
use dbapi::metadata::{ServerInfo, TableRef};

/// How remote SQL is written: the identifier quote of the server (its `SqlInfo`, `"` when it
/// does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    quote: char,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect { quote: '"' }
    }
}

impl Dialect {
    /// The dialect a server describes: its identifier quote.
    pub fn of(info: &ServerInfo) -> Dialect {
        let quote = info
            .identifier_quote
            .as_deref()
            .and_then(|q| q.chars().next())
            .filter(|q| matches!(q, '"' | '`' | '['))
            .unwrap_or('"');
        Dialect { quote }
    }

    /// A dialect quoting identifiers with `quote` (`"`, `` ` `` or `[`).
    pub fn with_quote(quote: char) -> Dialect {
        Dialect { quote }
    }

    pub(crate) fn unparser_dialect(&self) -> CustomDialect {
        CustomDialectBuilder::new()
            .with_identifier_quote_style(self.quote)
            .build()
    }

    /// The quote that opens an identifier.
    pub fn quote_char(&self) -> char {
        self.quote
    }

    /// `name` quoted.
    pub(crate) fn quote(&self, name: &str) -> String {
        let (open, close) = match self.quote {
            '[' => ('[', ']'),
            q => (q, q),
        };
        let escaped = name.replace(close, &format!("{close}{close}"));
        format!("{open}{escaped}{close}")
    }

    /// A table's name, each part quoted.
    pub(crate) fn table(&self, table: &TableRef) -> String {
        [&table.catalog, &table.schema]
            .into_iter()
            .flatten()
            .map(|part| self.quote(part))
            .chain(std::iter::once(self.quote(&table.name)))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A filter as remote SQL, when the remote server can run it: comparisons, `AND`, `OR`,
    /// `NOT`, `IS [NOT] NULL`, `IN` lists, `BETWEEN` and `LIKE` over columns and literals.
    /// Column references lose their DataFusion qualifier (the remote table has its own
    /// name). `None` for anything else, which DataFusion then runs itself.
    pub fn filter(&self, expr: &Expr) -> Option<String> {
        if !portable(expr, Sent::Filter) {
            return None;
        }
        let unqualified = expr
            .clone()
            .transform_up(|e| {
                Ok(match e {
                    Expr::Column(c) if c.relation.is_some() => {
                        Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
                    }
                    other => Transformed::no(other),
                })
            })
            .ok()?
            .data;
        let dialect = self.unparser_dialect();
        Unparser::new(&dialect)
            .expr_to_sql(&unqualified)
            .ok()
            .map(|sql| sql.to_string())
    }
}

/// Where an expression is sent: into a scan's `WHERE`, or within a whole federated query
/// (which may also hold aliases, arithmetic and aggregates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// A filter of one table's scan.
    Filter,
    /// Any expression of a federated query.
    Query,
}

/// Whether an expression is made only of what every SQL server runs alike, for where it is
/// `sent`: columns, literals, comparisons, `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `IN` lists,
/// `BETWEEN` and `LIKE`; in a federated query also aliases, `+ - *` and the aggregates
/// `count`, `sum`, `min`, `max` and `avg`.
pub(crate) fn portable(expr: &Expr, sent: Sent) -> bool {
    let part = |e: &Expr| portable(e, sent);
    let query = sent == Sent::Query;
    match expr {
        Expr::Column(_) | Expr::Literal(..) => true,
        Expr::Alias(alias) => query && part(&alias.expr),
        Expr::BinaryExpr(b) => {
            let compares = matches!(
                b.op,
                Operator::Eq
                    | Operator::NotEq
                    | Operator::Lt
                    | Operator::LtEq
                    | Operator::Gt
                    | Operator::GtEq
                    | Operator::And
                    | Operator::Or
            );
            let computes = matches!(b.op, Operator::Plus | Operator::Minus | Operator::Multiply);
            (compares || (query && computes)) && part(&b.left) && part(&b.right)
        }
        Expr::Not(e) | Expr::IsNull(e) | Expr::IsNotNull(e) => part(e),
        Expr::Between(b) => part(&b.expr) && part(&b.low) && part(&b.high),
        Expr::InList(list) => part(&list.expr) && list.list.iter().all(part),
        Expr::Like(like) => {
            !like.case_insensitive
                && like.escape_char.is_none()
                && part(&like.expr)
                && part(&like.pattern)
        }
        Expr::AggregateFunction(AggregateFunction { func, params }) => {
            query
                && matches!(func.name(), "count" | "sum" | "min" | "max" | "avg")
                && params.filter.is_none()
                && params.order_by.is_empty()
                && params.null_treatment.is_none()
                && params.args.iter().all(part)
        }
        _ => false,
    }
}

/// The remote statement of a scan.
pub(crate) fn statement(
    dialect: &Dialect,
    table: &TableRef,
    columns: &[&str],
    filters: &[String],
    limit: Option<usize>,
) -> String {
    let projection = if columns.is_empty() {
        // No column needed (`count(*)`): one constant per row.
        "1".to_owned()
    } else {
        columns
            .iter()
            .map(|c| dialect.quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sql = format!("SELECT {projection} FROM {}", dialect.table(table));
    if !filters.is_empty() {
        let clauses: Vec<String> = filters.iter().map(|f| format!("({f})")).collect();
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    if let Some(limit) = limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn statements_quote_and_push_what_servers_run_alike() {
        let d = Dialect::default();
        let table = TableRef::new("num\"bers").in_schema("public");
        let filters: Vec<String> = [
            col("t.id").gt_eq(lit(10_i64)),
            col("name").like(lit("a%")).or(col("id").is_null()),
            col("id").in_list(vec![lit(1_i64), lit(2_i64)], false),
        ]
        .iter()
        .map(|f| d.filter(f).unwrap())
        .collect();
        let sql = statement(&d, &table, &["id", "name"], &filters, Some(5));
        assert_eq!(
            sql,
            "SELECT \"id\", \"name\" FROM \"public\".\"num\"\"bers\" WHERE ((\"id\" >= 10)) AND \
             ((\"name\" LIKE 'a%' OR \"id\" IS NULL)) AND (\"id\" IN (1, 2)) LIMIT 5"
        );
        assert_eq!(
            statement(&d, &table, &[], &[], None),
            "SELECT 1 FROM \"public\".\"num\"\"bers\""
        );
        // Functions and arithmetic stay in DataFusion.
        let upper = datafusion::functions::string::expr_fn::upper(col("name")).eq(lit("A"));
        assert_eq!(d.filter(&upper), None);
        assert_eq!(d.filter(&(col("id") + lit(1_i64)).eq(lit(3_i64))), None);
        let backtick = Dialect::with_quote('`');
        assert_eq!(backtick.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::with_quote('[').quote("a]b"), "[a]]b]");
        let info = ServerInfo {
            identifier_quote: Some("`".into()),
            ..ServerInfo::default()
        };
        assert_eq!(Dialect::of(&info), backtick);
    }
}
