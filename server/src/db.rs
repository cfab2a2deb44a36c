//! The metadata database behind one interface: embedded SQLite (the default, one instance) or
//! PostgreSQL (`server.database_url`, any number of instances). Everything is blocking and runs on
//! `spawn_blocking` threads (`run`).
//!
//! SQL is written once, in the subset both engines share: numbered placeholders `$1`, `$2`, …
//! (rewritten to SQLite's `?1` form), `INSERT … ON CONFLICT … DO …`, `RETURNING`, `CAST(… AS
//! BIGINT)` where PostgreSQL cannot infer a parameter's type, integers for flags. Row locks that
//! matter only with several instances are spelled `{lock}` (`FOR UPDATE` on PostgreSQL; SQLite
//! has one writer); insertion order is `{seq}`. Each engine has its own migrations (`server/migrations/{sqlite,postgres}`),
//! numbered alike, so both report the same schema version.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// One SQL value (all integers are 64-bit; flags are 0 and 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u8> for Value {
    fn from(v: u8) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        v.as_deref().into()
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// `args![a, b]`: a slice of [`Value`]s for a statement's `$1`, `$2`, ….
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Value::from($v)),*][..] };
}

/// A database failure (logged with its detail; the person sees `LF-50001`).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres: no connection free within 15 s")]
    PoolTimeout,
    #[error("postgres: the connection pool is shut down")]
    Closed,
    #[error("column {0}: {1}")]
    Column(String, &'static str),
    #[error("database_url: {0}")]
    Url(String),
}

/// One result row; columns by name.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    vals: Vec<Value>,
}

impl Row {
    pub(crate) fn new(names: Arc<[String]>, vals: Vec<Value>) -> Row {
        Row { names, vals }
    }

    fn at(&self, col: &str) -> Result<&Value, DbError> {
        self.names
            .iter()
            .position(|n| n == col)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| DbError::Column(col.to_owned(), "no such column"))
    }

    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>, DbError> {
        match self.at(col)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(DbError::Column(col.to_owned(), "not an integer")),
        }
    }

    pub fn i64(&self, col: &str) -> Result<i64, DbError> {
        self.opt_i64(col)?
            .ok_or_else(|| DbError::Column(col.to_owned(), "NULL"))
    }

    pub fn opt_text(&self, col: &str) -> Result<Option<String>, DbError> {
        match self.at(col)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            _ => Err(DbError::Column(col.to_owned(), "not text")),
        }
    }

    pub fn text(&self, col: &str) -> Result<String, DbError> {
        self.opt_text(col)?
            .ok_or_else(|| DbError::Column(col.to_owned(), "NULL"))
    }

    pub fn bool(&self, col: &str) -> Result<bool, DbError> {
        Ok(self.i64(col)? != 0)
    }
}

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection inside a transaction.
pub trait Conn {
    fn backend(&self) -> Backend;
    /// Runs a statement; the number of rows changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; every row.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;
    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }
    /// Exactly the first row.
    fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, args)?
            .ok_or(DbError::Column(String::new(), "no row"))
    }
}

/// `$12` → `?12`, `{lock}` → nothing, `{seq}` (insertion order) → `rowid`.
fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') && !sql.contains('{') {
        return Cow::Borrowed(sql);
    }
    let sql = sql.replace("{lock}", "").replace("{seq}", "rowid");
    let mut out = String::with_capacity(sql.len());
    let mut it = sql.chars().peekable();
    while let Some(c) = it.next() {
        if c == '$' && it.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `{lock}` → `FOR UPDATE`, `{seq}` → the `seq` column.
fn pg_sql(sql: &str) -> Cow<'_, str> {
    if sql.contains('{') {
        Cow::Owned(sql.replace("{lock}", " FOR UPDATE").replace("{seq}", "seq"))
    } else {
        Cow::Borrowed(sql)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

struct SqliteConn<'a>(&'a rusqlite::Transaction<'a>);

impl Conn for SqliteConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(args.iter()))? as u64)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        let names: Arc<[String]> = stmt
            .column_names()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let n = names.len();
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            out.push(Row {
                names: names.clone(),
                vals,
            });
        }
        Ok(out)
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            Value::Text(v) => v.as_str().to_sql(ty, out),
            Value::Blob(v) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

struct PgConn<'a, 'b>(&'a crate::pg::Lease<'b>);

impl Conn for PgConn<'_, '_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        self.0.execute(&pg_sql(sql), args)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        self.0.query(&pg_sql(sql), args)
    }
}

/// The metadata database.
pub enum Db {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(Box<crate::pg::PgPool>),
}

/// The migrations per engine: (version, SQL), in order.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_liveness.sql")),
    (
        3,
        include_str!("../migrations/sqlite/0003_verification.sql"),
    ),
    (4, include_str!("../migrations/sqlite/0004_durable.sql")),
    (5, include_str!("../migrations/sqlite/0005_sealed.sql")),
    (6, include_str!("../migrations/sqlite/0006_results_api.sql")),
    (7, include_str!("../migrations/sqlite/0007_tokens.sql")),
    (8, include_str!("../migrations/sqlite/0008_rules.sql")),
    (
        9,
        include_str!("../migrations/sqlite/0009_token_expired.sql"),
    ),
    (10, include_str!("../migrations/sqlite/0010_document.sql")),
];

/// PostgreSQL support starts at schema v4: its first file is the whole v4 schema.
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (4, include_str!("../migrations/postgres/0004_init.sql")),
    (5, include_str!("../migrations/postgres/0005_sealed.sql")),
    (
        6,
        include_str!("../migrations/postgres/0006_results_api.sql"),
    ),
    (7, include_str!("../migrations/postgres/0007_tokens.sql")),
    (8, include_str!("../migrations/postgres/0008_rules.sql")),
    (
        9,
        include_str!("../migrations/postgres/0009_token_expired.sql"),
    ),
    (10, include_str!("../migrations/postgres/0010_document.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 10;

impl Db {
    /// Opens (creating) the SQLite database at `path` and applies pending migrations.
    pub fn open_sqlite(path: &Path) -> Result<Db, DbError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::sqlite(conn)
    }

    /// A private in-memory SQLite database (tests and `liveform` without a data directory).
    pub fn open_memory() -> Result<Db, DbError> {
        Self::sqlite(rusqlite::Connection::open_in_memory()?)
    }

    fn sqlite(conn: rusqlite::Connection) -> Result<Db, DbError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Deleted and overwritten content is zeroed, not left in free pages: a purged submission
        // or a value sealed in place (schema v5) leaves nothing readable in the file.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        let db = Db::Sqlite(Mutex::new(conn));
        db.migrate()?;
        Ok(db)
    }

    /// Connects to PostgreSQL (`postgres://user@host:port/db?options=…`; the password may come
    /// from `LIVEFORM_DATABASE_PASSWORD` instead of the URL) with a pool of `pool_size`
    /// connections, and applies pending migrations (one instance at a time: an advisory lock).
    pub fn open_postgres(url: &str, pool_size: u32) -> Result<Db, DbError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| DbError::Url(e.to_string()))?;
        if config.get_password().is_none() {
            if let Ok(pw) = std::env::var("LIVEFORM_DATABASE_PASSWORD") {
                config.password(pw);
            }
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        config.application_name("liveform");
        let db = Db::Postgres(Box::new(crate::pg::PgPool::new(config, pool_size)?));
        db.migrate()?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn tx<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(m) => {
                let mut conn = m.lock().unwrap_or_else(|e| e.into_inner());
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(DbError::from)?;
                let out = f(&mut SqliteConn(&tx))?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
            Db::Postgres(pool) => {
                let mut lease = pool.get()?;
                lease.begin()?;
                match f(&mut PgConn(&lease)) {
                    Ok(out) => {
                        lease.commit()?;
                        Ok(out)
                    }
                    Err(e) => {
                        let _ = lease.rollback();
                        Err(e)
                    }
                }
            }
        }
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        self.tx(|c| {
            c.query_one(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_version",
                &[],
            )?
            .i64("v")
        })
    }

    /// The database's clock (Unix milliseconds): every instance's time windows use it.
    pub fn now_ms(&self) -> Result<i64, DbError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now"
            }
            Backend::Postgres => {
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) AS now"
            }
        };
        self.tx(|c| c.query_one(sql, &[])?.i64("now"))
    }

    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`, unless another
    /// holder's lease is still running: how one of several instances runs a periodic job.
    pub fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, DbError> {
        self.tx(|c| {
            Ok(c.query_opt(
                "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                     until_ms = excluded.until_ms
                   WHERE leases.until_ms <= $4 OR leases.holder = excluded.holder
                 RETURNING holder",
                args![name, holder, now_ms + ttl_ms, now_ms],
            )?
            .is_some())
        })
    }

    /// `true` when the database answers (`/readyz`).
    /// After rewriting rows that held clear personal data: SQLite moves every page out of its
    /// write-ahead log into the file (overwriting the old versions) and empties the log.
    /// PostgreSQL keeps old row versions until (auto)vacuum reclaims them (docs/deploy.md).
    pub fn checkpoint(&self) -> Result<(), DbError> {
        if let Db::Sqlite(m) = self {
            let conn = m.lock().unwrap_or_else(|e| e.into_inner());
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    pub fn ping(&self) -> bool {
        self.tx(|c| c.query_one("SELECT 1 AS one", &[]).map(|_| ()))
            .is_ok()
    }

    fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(m) => {
                let mut conn = m.lock().unwrap_or_else(|e| e.into_inner());
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
                    [],
                )?;
                let current: i64 = conn.query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                    [],
                    |r| r.get(0),
                )?;
                for (version, sql) in SQLITE_MIGRATIONS {
                    if *version <= current {
                        continue;
                    }
                    let tx = conn.transaction()?;
                    tx.execute_batch(sql)?;
                    tx.execute(
                        "INSERT INTO schema_version (version, applied_ms) VALUES (?1, ?2)",
                        rusqlite::params![version, wall_ms()],
                    )?;
                    tx.commit()?;
                }
                Ok(())
            }
            Db::Postgres(pool) => {
                let mut lease = pool.get()?;
                lease.begin()?;
                // Several instances may start at once: one migrates, the others wait here.
                lease.batch(
                    "SELECT pg_advisory_xact_lock(7244163);
                     CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
                )?;
                let current = lease
                    .query(
                        "SELECT COALESCE(MAX(version), 0)::BIGINT AS v FROM schema_version",
                        &[],
                    )?
                    .first()
                    .map(|r| r.i64("v"))
                    .transpose()?
                    .unwrap_or(0);
                for (version, sql) in POSTGRES_MIGRATIONS {
                    if *version <= current {
                        continue;
                    }
                    lease.batch(sql)?;
                    lease.execute(
                        "INSERT INTO schema_version (version, applied_ms) VALUES ($1, $2)",
                        args![*version, wall_ms()],
                    )?;
                }
                lease.commit()?;
                Ok(())
            }
        }
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Runs blocking database work off the async threads.
pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(f).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(
            sqlite_sql("UPDATE t SET a = $2 WHERE id = $1{lock}"),
            "UPDATE t SET a = ?2 WHERE id = ?1"
        );
        assert_eq!(
            pg_sql("SELECT 1 FROM t{lock}"),
            "SELECT 1 FROM t FOR UPDATE"
        );
        assert_eq!(sqlite_sql("SELECT '$' AS x"), "SELECT '$' AS x");
    }

    #[test]
    fn numbered_parameters_bind_by_number_in_sqlite() {
        let db = Db::open_memory().unwrap();
        let v = db
            .tx(|c| c.query_one("SELECT $2 AS b, $1 AS a, $2 AS b2", args![1i64, "two"]))
            .unwrap();
        assert_eq!(v.text("b").unwrap(), "two");
        assert_eq!(v.i64("a").unwrap(), 1);
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        let now = db.now_ms().unwrap();
        assert!((now - wall_ms()).abs() < 5_000, "{now}");
    }

    #[test]
    fn one_holder_per_lease_until_it_ends() {
        let db = Db::open_memory().unwrap();
        assert!(db.try_lease("job", "a", 1000, 100).unwrap());
        assert!(!db.try_lease("job", "b", 1050, 100).unwrap(), "a holds it");
        assert!(db.try_lease("job", "a", 1050, 100).unwrap(), "a renews");
        assert!(!db.try_lease("job", "b", 1149, 100).unwrap());
        assert!(db.try_lease("job", "b", 1150, 100).unwrap(), "a's ended");
        assert!(db.try_lease("other", "a", 1150, 100).unwrap(), "per name");
    }
}
