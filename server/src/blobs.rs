//! Where the (already encrypted) capture files live: a local directory (the default) or any
//! S3-compatible object store (`[server.object_store]`). Blocking, like the rest of the store;
//! S3 requests run on a small runtime of their own so that they can be awaited from the
//! `spawn_blocking` threads the store runs on.

use std::io::{Error, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

/// The object store's settings (`[server.object_store]`), defined with the config.
pub use liveform_config::S3Settings;

pub enum Blobs {
    Dir(PathBuf),
    S3(S3Blobs),
}

pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for S3Blobs {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn io_err(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::new(ErrorKind::NotFound, e.to_string()),
        other => Error::other(other.to_string()),
    }
}

impl S3Blobs {
    pub fn new(s: &S3Settings) -> Result<S3Blobs, String> {
        let allow_http = s.endpoint.starts_with("http://");
        let store = AmazonS3Builder::from_env()
            .with_endpoint(&s.endpoint)
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_allow_http(allow_http)
            // Path-style requests (`endpoint/bucket/key`): what S3-compatible servers expect.
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| format!("object store: {e}"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("liveform-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("object store runtime: {e}"))?;
        let prefix = s.prefix.trim_matches('/').to_owned();
        Ok(S3Blobs {
            store: Arc::new(store),
            prefix,
            rt: Some(rt),
        })
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Runs `f` on the object store's runtime and waits for it. Works from any thread, even an
    /// async one (a test's): the waiting is a plain channel receive, not a nested runtime.
    fn block_on<F>(&self, f: F) -> Result<F::Output, Error>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let rt = self.rt.as_ref().ok_or_else(|| Error::other("shut down"))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| Error::other("object store request abandoned"))
    }
}

impl Blobs {
    /// Stores `data` under `name` (never readable by others: 0600 on disk).
    pub fn put(&self, name: &str, data: Vec<u8>) -> std::io::Result<()> {
        match self {
            Blobs::Dir(dir) => {
                let tmp = dir.join(format!("{name}.tmp"));
                crate::store::write_private(&tmp, &data)?;
                std::fs::rename(&tmp, dir.join(name)).inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })
            }
            Blobs::S3(s) => {
                let (store, path) = (s.store.clone(), s.path(name));
                s.block_on(async move { store.put(&path, PutPayload::from(data)).await })?
                    .map(|_| ())
                    .map_err(io_err)
            }
        }
    }

    pub fn get(&self, name: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Blobs::Dir(dir) => std::fs::read(dir.join(name)),
            Blobs::S3(s) => {
                let (store, path) = (s.store.clone(), s.path(name));
                s.block_on(async move {
                    let r = store.get(&path).await?;
                    r.bytes().await
                })?
                .map(|b| b.to_vec())
                .map_err(io_err)
            }
        }
    }

    /// Removes `name`; a missing one is not an error.
    pub fn delete(&self, name: &str) -> std::io::Result<()> {
        let r = match self {
            Blobs::Dir(dir) => std::fs::remove_file(dir.join(name)),
            Blobs::S3(s) => {
                let (store, path) = (s.store.clone(), s.path(name));
                s.block_on(async move { store.delete(&path).await })?
                    .map_err(io_err)
            }
        };
        match r {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Every stored name with its last modification.
    pub fn list(&self) -> std::io::Result<Vec<(String, SystemTime)>> {
        match self {
            Blobs::Dir(dir) => {
                let mut out = Vec::new();
                for e in std::fs::read_dir(dir)? {
                    let e = e?;
                    let modified = e.metadata()?.modified()?;
                    out.push((e.file_name().to_string_lossy().into_owned(), modified));
                }
                Ok(out)
            }
            Blobs::S3(s) => {
                use futures_util::TryStreamExt as _;
                let store = s.store.clone();
                let prefix = (!s.prefix.is_empty()).then(|| ObjectPath::from(s.prefix.as_str()));
                let metas: Vec<object_store::ObjectMeta> = s
                    .block_on(async move { store.list(prefix.as_ref()).try_collect().await })?
                    .map_err(io_err)?;
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let name = m.location.filename()?.to_owned();
                        Some((name, SystemTime::from(m.last_modified)))
                    })
                    .collect())
            }
        }
    }

    /// `true` when the storage answers (`/readyz`).
    pub fn ping(&self) -> bool {
        match self {
            Blobs::Dir(dir) => dir.is_dir(),
            Blobs::S3(_) => self.list_one().is_ok(),
        }
    }

    fn list_one(&self) -> std::io::Result<()> {
        match self {
            Blobs::Dir(_) => Ok(()),
            Blobs::S3(s) => {
                use futures_util::StreamExt as _;
                let store = s.store.clone();
                let prefix = (!s.prefix.is_empty()).then(|| ObjectPath::from(s.prefix.as_str()));
                s.block_on(async move {
                    match store.list(prefix.as_ref()).next().await {
                        Some(Err(e)) => Err(io_err(e)),
                        _ => Ok(()),
                    }
                })?
            }
        }
    }

    /// The local directory, if that is where captures live.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Blobs::Dir(d) => Some(d),
            Blobs::S3(_) => None,
        }
    }
}
