//! For tests: which columns of which tables hold a given text, over every table of the
//! database (the knowledge base's full-text index included), so a test can prove that
//! deleting, purging or forgetting left no copy anywhere, whatever tables later versions add.

use sqlx::Row;

use crate::store::{Backend, Store, StoreError};

/// Every column of every table on SQLite (its columns have no fixed type: the scan reads the
/// values that are text), with the SQLite FTS5 table and its shadow tables.
const SQLITE_COLUMNS: &str = "SELECT t.name AS table_name, c.name AS column_name \
     FROM sqlite_master AS t JOIN pragma_table_info(t.name) AS c \
     WHERE t.type = 'table' ORDER BY t.name, c.cid";

/// The columns of PostgreSQL's tables (current schema) whose values are text: text types, the
/// full-text index's lexemes, JSON.
const POSTGRES_COLUMNS: &str = "SELECT CAST(c.table_name AS TEXT) AS table_name, \
     CAST(c.column_name AS TEXT) AS column_name \
     FROM information_schema.columns AS c JOIN information_schema.tables AS t \
     ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
     AND c.data_type IN ('text', 'character varying', 'character', 'tsvector', 'json', 'jsonb') \
     ORDER BY 1, 2";

impl Store {
    /// For tests: the (table, column) pairs where some row's value contains `needle` (case
    /// sensitive), over every table of the database. Only text values are read: on SQLite
    /// values whose type is text (the FTS5 index's own pages are blobs and not read), on
    /// PostgreSQL columns of text types, `tsvector` and JSON. Reads every row: not for
    /// production use.
    #[doc(hidden)]
    pub async fn debug_text_columns_containing(
        &self,
        needle: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        const OPERATION: &str = "scan the database for a text";
        let columns_sql = match self.backend {
            Backend::Sqlite => SQLITE_COLUMNS,
            Backend::Postgres => POSTGRES_COLUMNS,
        };
        let rows = sqlx::query(columns_sql)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut found = Vec::new();
        for row in &rows {
            let table: String = row
                .try_get("table_name")
                .map_err(StoreError::query(OPERATION))?;
            let column: String = row
                .try_get("column_name")
                .map_err(StoreError::query(OPERATION))?;
            let (t, c) = (quote(&table), quote(&column));
            let sql = match self.backend {
                Backend::Sqlite => format!(
                    "SELECT COUNT(*) FROM {t} WHERE typeof({c}) = 'text' AND instr({c}, $1) > 0"
                ),
                Backend::Postgres => {
                    format!("SELECT COUNT(*) FROM {t} WHERE strpos(CAST({c} AS TEXT), $1) > 0")
                }
            };
            // Names come from the database's own catalogue and are quoted; the needle is bound.
            let count = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(needle)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query(OPERATION))?;
            let count: i64 = count.try_get(0).map_err(StoreError::query(OPERATION))?;
            if count > 0 {
                found.push((table, column));
            }
        }
        Ok(found)
    }
}

/// `name` as a quoted SQL identifier (both backends double a quote inside).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("messages"), "\"messages\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
