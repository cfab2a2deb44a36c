//! PostgreSQL for the blocking store: `tokio-postgres` connections driven by a small runtime of
//! their own, a pool of them, and one blocking call per statement (the statement runs on that
//! runtime; the caller waits on a channel). Because the waiting is a plain channel receive, it
//! works from any thread — a `spawn_blocking` thread, a test's async body, `main` before the
//! server's runtime exists — where the `postgres` crate's nested `block_on` would panic.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::db::{DbError, Row, Value};

/// One connection and its prepared statements (each SQL text is prepared once per connection).
pub struct PgClient {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

/// The pool: at most `max` connections, created on demand, replaced when closed.
pub struct PgPool {
    config: Config,
    rt: Option<tokio::runtime::Runtime>,
    idle: Mutex<(Vec<Arc<PgClient>>, u32)>,
    freed: Condvar,
    max: u32,
}

impl Drop for PgPool {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A connection checked out of the pool (returned on drop unless it broke or a transaction was
/// left open, e.g. by a panic).
pub struct Lease<'a> {
    pool: &'a PgPool,
    client: Option<Arc<PgClient>>,
    in_tx: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut g = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        match self.client.take() {
            Some(c) if !c.client.is_closed() && !self.in_tx => g.0.push(c),
            _ => g.1 = g.1.saturating_sub(1),
        }
        self.pool.freed.notify_one();
    }
}

impl PgPool {
    pub fn new(config: Config, max: u32) -> Result<PgPool, DbError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("liveform-pg")
            .enable_all()
            .build()
            .map_err(|e| DbError::Url(format!("runtime: {e}")))?;
        Ok(PgPool {
            config,
            rt: Some(rt),
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            max: max.max(1),
        })
    }

    /// Runs `f` on the pool's runtime and waits for it from any thread.
    fn wait<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, DbError> {
        let rt = self.rt.as_ref().ok_or(DbError::Closed)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv().map_err(|_| DbError::Closed)
    }

    fn connect(&self) -> Result<Arc<PgClient>, DbError> {
        let config = self.config.clone();
        let rt = self.rt.as_ref().ok_or(DbError::Closed)?;
        let handle = rt.handle().clone();
        let client = self.wait(async move {
            let (client, conn) = config.connect(NoTls).await?;
            handle.spawn(async move {
                if let Err(e) = conn.await {
                    tracing::warn!(error = %e, "postgres connection ended");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        })??;
        Ok(Arc::new(PgClient {
            client,
            statements: Mutex::new(HashMap::new()),
        }))
    }

    /// A connection: an idle one, a new one below the maximum, or the next one freed (15 s).
    pub fn get(&self) -> Result<Lease<'_>, DbError> {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut g = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            while let Some(c) = g.0.pop() {
                if !c.client.is_closed() {
                    return Ok(Lease {
                        pool: self,
                        client: Some(c),
                        in_tx: false,
                    });
                }
                g.1 = g.1.saturating_sub(1);
            }
            if g.1 < self.max {
                g.1 += 1;
                drop(g);
                return match self.connect() {
                    Ok(c) => Ok(Lease {
                        pool: self,
                        client: Some(c),
                        in_tx: false,
                    }),
                    Err(e) => {
                        let mut g = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                        g.1 = g.1.saturating_sub(1);
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(DbError::PoolTimeout);
            }
            g = self
                .freed
                .wait_timeout(g, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Lease<'_> {
    fn client(&self) -> Result<Arc<PgClient>, DbError> {
        self.client.clone().ok_or(DbError::Closed)
    }

    pub fn begin(&mut self) -> Result<(), DbError> {
        self.in_tx = true;
        self.batch("BEGIN")
    }

    pub fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")?;
        self.in_tx = false;
        Ok(())
    }

    pub fn rollback(&mut self) -> Result<(), DbError> {
        self.batch("ROLLBACK")?;
        self.in_tx = false;
        Ok(())
    }

    /// Runs several statements without parameters (migrations, `BEGIN`, `COMMIT`).
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        let c = self.client()?;
        let sql = sql.to_owned();
        self.pool
            .wait(async move { c.client.batch_execute(&sql).await })??;
        Ok(())
    }

    async fn statement(c: &PgClient, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        let cached = c
            .statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sql)
            .cloned();
        if let Some(s) = cached {
            return Ok(s);
        }
        let s = c.client.prepare(sql).await?;
        c.statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let c = self.client()?;
        let (sql, args) = (sql.to_owned(), args.to_vec());
        Ok(self.pool.wait(async move {
            let st = Self::statement(&c, &sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> =
                args.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            c.client.execute(&st, &params).await
        })??)
    }

    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let c = self.client()?;
        let (sql, args) = (sql.to_owned(), args.to_vec());
        self.pool.wait(async move {
            let st = Self::statement(&c, &sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> =
                args.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            let rows = c.client.query(&st, &params).await?;
            let names: Arc<[String]> = st.columns().iter().map(|c| c.name().to_owned()).collect();
            rows.iter()
                .map(|r| row(&names, r))
                .collect::<Result<Vec<Row>, DbError>>()
        })?
    }
}

fn row(names: &Arc<[String]>, r: &tokio_postgres::Row) -> Result<Row, DbError> {
    let mut vals = Vec::with_capacity(names.len());
    for (i, c) in r.columns().iter().enumerate() {
        let ty = c.type_();
        let v = match *ty {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            _ => return Err(DbError::Column(c.name().to_owned(), "unsupported type")),
        };
        vals.push(v.unwrap_or(Value::Null));
    }
    Ok(Row::new(names.clone(), vals))
}

/// Creates the schema `name` (tests: one per server, `search_path` in the URL's `options`).
pub fn create_schema(url: &str, name: &str) -> Result<(), DbError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DbError::Url(format!("bad schema name {name}")));
    }
    let config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| DbError::Url(e.to_string()))?;
    let pool = PgPool::new(config, 1)?;
    let lease = pool.get()?;
    lease.batch(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))
}
