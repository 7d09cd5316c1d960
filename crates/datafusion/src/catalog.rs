//! A remote catalog as a DataFusion catalog: its schemas and tables listed through the
//! metadata API, the list cached for a while.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableProvider;
use dbapi::Connection;
use dbapi::metadata::{TableFilter, TableRef};

use crate::exec::external;
use crate::table::DbapiTable;

/// How long a listing of schemas and tables is used before it is read again, by default.
pub const DEFAULT_LISTING_TTL: Duration = Duration::from_secs(60);

/// What the remote catalog held when last listed: each schema's tables.
#[derive(Debug)]
struct Listing {
    read_at: Instant,
    schemas: BTreeMap<String, Vec<String>>,
}

#[derive(Debug)]
struct Shared {
    conn: Arc<dyn Connection>,
    catalog: Option<String>,
    ttl: Duration,
    listing: RwLock<Listing>,
}

impl Shared {
    /// Lists the remote schemas and their tables.
    async fn read(
        conn: &Arc<dyn Connection>,
        catalog: Option<&str>,
    ) -> dbapi::Result<BTreeMap<String, Vec<String>>> {
        let mut filter = TableFilter::new();
        if let Some(catalog) = catalog {
            filter = filter.catalog(catalog);
        }
        let mut schemas: BTreeMap<String, Vec<String>> = conn
            .schemas(catalog, None)
            .await?
            .into_iter()
            .map(|s| (s.name, Vec::new()))
            .collect();
        for table in conn.tables(&filter).await? {
            schemas
                .entry(table.schema.unwrap_or_default())
                .or_default()
                .push(table.name);
        }
        Ok(schemas)
    }

    /// Reads the listing again when it is older than the time to live.
    async fn refresh_if_stale(&self) -> Result<()> {
        let stale = self
            .listing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .read_at
            .elapsed()
            >= self.ttl;
        if stale {
            let schemas = Shared::read(&self.conn, self.catalog.as_deref())
                .await
                .map_err(external)?;
            *self.listing.write().unwrap_or_else(PoisonError::into_inner) = Listing {
                read_at: Instant::now(),
                schemas,
            };
        }
        Ok(())
    }

    fn tables(&self, schema: &str) -> Option<Vec<String>> {
        self.listing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .schemas
            .get(schema)
            .cloned()
    }
}

/// A remote catalog (or the server's default one) as a DataFusion catalog: `SHOW TABLES`,
/// `information_schema` and qualified names (`remote.public.cpu`) see its schemas and
/// tables. The listing is read when the catalog is made and again, when older than its time
/// to live, as a table is looked up; each table is a [`DbapiTable`].
#[derive(Debug, Clone)]
pub struct DbapiCatalog {
    shared: Arc<Shared>,
}

impl DbapiCatalog {
    /// The catalog `catalog` of `conn` (`None`: what the server lists without a catalog),
    /// listed now, listed again after [`DEFAULT_LISTING_TTL`].
    ///
    /// # Errors
    /// The connection's error listing schemas or tables.
    pub async fn new(
        conn: Arc<dyn Connection>,
        catalog: Option<&str>,
    ) -> dbapi::Result<DbapiCatalog> {
        DbapiCatalog::with_ttl(conn, catalog, DEFAULT_LISTING_TTL).await
    }

    /// As [`DbapiCatalog::new`], the listing kept for `ttl`.
    ///
    /// # Errors
    /// As [`DbapiCatalog::new`].
    pub async fn with_ttl(
        conn: Arc<dyn Connection>,
        catalog: Option<&str>,
        ttl: Duration,
    ) -> dbapi::Result<DbapiCatalog> {
        let schemas = Shared::read(&conn, catalog).await?;
        Ok(DbapiCatalog {
            shared: Arc::new(Shared {
                conn,
                catalog: catalog.map(str::to_owned),
                ttl,
                listing: RwLock::new(Listing {
                    read_at: Instant::now(),
                    schemas,
                }),
            }),
        })
    }
}

impl CatalogProvider for DbapiCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.shared
            .listing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .schemas
            .keys()
            .cloned()
            .collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.shared.tables(name)?;
        Some(Arc::new(DbapiSchema {
            shared: Arc::clone(&self.shared),
            name: name.to_owned(),
        }))
    }
}

/// A remote schema of a [`DbapiCatalog`].
#[derive(Debug)]
struct DbapiSchema {
    shared: Arc<Shared>,
    name: String,
}

#[async_trait]
impl SchemaProvider for DbapiSchema {
    fn table_names(&self) -> Vec<String> {
        self.shared.tables(&self.name).unwrap_or_default()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        self.shared.refresh_if_stale().await?;
        if !self.table_exist(name) {
            return Ok(None);
        }
        let mut table = TableRef::new(name).in_schema(self.name.as_str());
        if let Some(catalog) = &self.shared.catalog {
            table = table.in_catalog(catalog.as_str());
        }
        let table = DbapiTable::new(Arc::clone(&self.shared.conn), table)
            .await
            .map_err(external)?;
        Ok(Some(Arc::new(table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.shared
            .tables(&self.name)
            .is_some_and(|tables| tables.iter().any(|t| t == name))
    }
}
