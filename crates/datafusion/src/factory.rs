//! `CREATE EXTERNAL TABLE … STORED AS DBAPI`: a remote table declared in SQL alone.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProviderFactory};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableProvider;
use datafusion::logical_expr::CreateExternalTable;
use dbapi::Registry;
use dbapi::metadata::TableRef;

use crate::exec::external;
use crate::table::DbapiTable;

/// Creates [`DbapiTable`]s from SQL:
///
/// ```sql
/// CREATE EXTERNAL TABLE cpu STORED AS DBAPI
/// LOCATION 'flightsql://host:8181/sensors?token=...'
/// OPTIONS ('table' 'public.cpu');
/// ```
///
/// `LOCATION` is any URL the registry knows (`flightsql://`, `adbc:`, ...); the option
/// `table` names the remote table (`name`, `schema.name` or `catalog.schema.name`), by
/// default the name the table is created under. Register it under the file type `DBAPI`
/// ([`DbapiTableFactory::register`]).
#[derive(Debug, Clone)]
pub struct DbapiTableFactory {
    registry: Registry,
}

impl DbapiTableFactory {
    /// A factory connecting through `registry`.
    pub fn new(registry: Registry) -> DbapiTableFactory {
        DbapiTableFactory { registry }
    }

    /// Registers the factory as `STORED AS DBAPI` in a session.
    pub fn register(self, ctx: &datafusion::prelude::SessionContext) {
        ctx.state_ref()
            .write()
            .table_factories_mut()
            .insert("DBAPI".to_owned(), Arc::new(self));
    }
}

/// A table name `name`, `schema.name` or `catalog.schema.name`.
fn table_ref(name: &str) -> Result<TableRef> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(DataFusionError::Plan(format!(
            "the option table={name:?} is not name, schema.name or catalog.schema.name"
        )));
    }
    Ok(match parts.as_slice() {
        [table] => TableRef::new(*table),
        [schema, table] => TableRef::new(*table).in_schema(*schema),
        [catalog, schema, table] => TableRef::new(*table)
            .in_schema(*schema)
            .in_catalog(*catalog),
        _ => {
            return Err(DataFusionError::Plan(format!(
                "the option table={name:?} has more than three parts"
            )));
        }
    })
}

#[async_trait]
impl TableProviderFactory for DbapiTableFactory {
    async fn create(
        &self,
        _state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        let [url] = cmd.locations.as_slice() else {
            return Err(DataFusionError::Plan(
                "STORED AS DBAPI takes one LOCATION: the connection URL".to_owned(),
            ));
        };
        for key in cmd.options.keys() {
            if key != "format.table" {
                return Err(DataFusionError::Plan(format!(
                    "unknown option {:?} of STORED AS DBAPI (known: table)",
                    key.trim_start_matches("format.")
                )));
            }
        }
        let table = match cmd.options.get("format.table") {
            Some(name) => table_ref(name)?,
            None => table_ref(cmd.name.table())?,
        };
        let conn = self.registry.connect(url).await.map_err(external)?;
        let table = DbapiTable::new(Arc::from(conn), table)
            .await
            .map_err(external)?;
        Ok(Arc::new(table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_of_one_to_three_parts() {
        let t = table_ref("c.s.t").unwrap();
        assert_eq!(
            (t.catalog.as_deref(), t.schema.as_deref(), t.name.as_str()),
            (Some("c"), Some("s"), "t")
        );
        assert_eq!(table_ref("s.t").unwrap().schema.as_deref(), Some("s"));
        assert_eq!(table_ref("t").unwrap().schema, None);
        assert!(table_ref("a..b").is_err());
        assert!(table_ref("a.b.c.d").is_err());
    }
}
