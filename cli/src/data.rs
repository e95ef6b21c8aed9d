//! Where the CLI's data is: a local folder (the default), or the S3 store the Lambda functions
//! write, with its published index cached locally.

use ssm_audit_core::rebuild;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use ssm_audit_aws::s3::{aws_config, s3_client, S3Store, S3Url};
use ssm_audit_core::correlate::{CorrelateOptions, SessionRecord};
use ssm_audit_core::escape::escape_text;
use ssm_audit_core::publish::{self, SyncStats};
use ssm_audit_core::store::{LocalStore, Store};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Where ssm-audit keeps what it ingested; with --store, where it caches the index
    /// [default: the platform's data folder; with --store, its cache folder]
    #[arg(long, env = "SSM_AUDIT_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Use the store in S3 that the Lambda functions write (s3://bucket/prefix). Credentials,
    /// region and profile come the standard AWS way (environment, ~/.aws/config, SSO)
    #[arg(
        long,
        env = "SSM_AUDIT_STORE",
        global = true,
        value_name = "s3://BUCKET/PREFIX"
    )]
    pub store: Option<String>,
    /// With --store: answer from the cached index, without looking for a newer one
    #[arg(long, global = true)]
    pub no_sync: bool,
}

/// AWS clients' configuration and the runtime they run on.
pub struct Aws {
    pub conf: aws_config::SdkConfig,
    pub rt: tokio::runtime::Runtime,
}

impl Aws {
    pub fn new() -> Result<Aws> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let conf = rt.block_on(aws_config());
        Ok(Aws { conf, rt })
    }
}

/// An open store. (Field order matters: the store holds a handle to the runtime in `aws`.)
pub struct Data {
    pub store: Arc<dyn Store>,
    pub index_dir: PathBuf,
    /// with an S3 store: the cache folder (holding `index/` and `records.json`)
    pub cache: Option<PathBuf>,
    pub aws: Option<Aws>,
}

impl DataArgs {
    fn dir(&self) -> Result<PathBuf> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(dirs::data_dir()
                .context("no platform data folder: pass --data-dir")?
                .join("ssm-audit")),
        }
    }

    /// Open the store, without syncing.
    pub fn open(&self) -> Result<Data> {
        let Some(spec) = &self.store else {
            let dir = self.dir()?;
            let store = LocalStore::open(&dir)
                .with_context(|| format!("cannot open the data folder {}", dir.display()))?;
            return Ok(Data {
                store: Arc::new(store),
                index_dir: dir.join("index"),
                cache: None,
                aws: None,
            });
        };
        let url: S3Url = spec.parse().map_err(|e: String| anyhow!("--store {e}"))?;
        let cache = match &self.data_dir {
            Some(d) => d.clone(),
            None => dirs::cache_dir()
                .context("no platform cache folder: pass --data-dir")?
                .join("ssm-audit")
                .join(&url.bucket)
                .join(ssm_audit_core::formats::fnv(url.prefix.as_bytes())),
        };
        let aws = Aws::new()?;
        let store = S3Store::new(s3_client(&aws.conf), url, aws.rt.handle().clone());
        Ok(Data {
            store: Arc::new(store),
            index_dir: cache.join("index"),
            cache: Some(cache),
            aws: Some(aws),
        })
    }

    /// Open the store to answer questions from: a local data folder must exist and hold
    /// ingested evidence (a mistyped folder is an error, never an empty answer); with an S3
    /// store, first pull what is new of its published index (unless --no-sync).
    pub fn open_existing(&self) -> Result<Data> {
        if self.store.is_none() {
            let dir = self.dir()?;
            let shown = escape_text(&dir.display().to_string()).into_owned();
            if !dir.is_dir() {
                bail!(
                    "no data folder {shown}: run `ssm-audit ingest PATH...` (or `ssm-audit \
                     quickstart`) to make one, or pass the folder you meant with --data-dir"
                );
            }
            if !dir.join(ssm_audit_core::keys::RECORDS).exists() {
                bail!(
                    "{shown} holds no ingested evidence (no records.json): run `ssm-audit \
                     ingest PATH...` first, or pass the folder you meant with --data-dir"
                );
            }
        }
        let d = self.open_synced()?;
        if let Some(cache) = &d.cache {
            if !cache.join(ssm_audit_core::keys::RECORDS).exists() {
                bail!(
                    "{} has no published index yet (or it was not synced: drop --no-sync): the \
                     indexer function publishes one",
                    escape_text(&d.describe())
                );
            }
        }
        Ok(d)
    }

    /// Open the store to answer questions: with an S3 store, first pull what is new of its
    /// published index (unless --no-sync).
    pub fn open_synced(&self) -> Result<Data> {
        let d = self.open()?;
        if d.cache.is_some() && !self.no_sync {
            d.sync()?;
        }
        Ok(d)
    }
}

/// The data folder's writer lock, held while it lives (released by the system when the
/// process ends, however it ends).
pub struct WriterLock {
    _file: std::fs::File,
}

impl Data {
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Take the writer lock of the data folder (or, with an S3 store, of its cache): one
    /// ingest or rebuild at a time, the others wait for it, so two runs at once end as one
    /// after the other would.
    pub fn lock_for_writing(&self) -> Result<WriterLock> {
        use rustix::fs::{flock, FlockOperation};
        let dir = self
            .cache
            .clone()
            .or_else(|| self.index_dir.parent().map(Path::to_owned))
            .context("no folder to lock")?;
        ssm_audit_core::store::private_dirs(&dir)?;
        let path = dir.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock {}", path.display()))?;
        if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
            eprintln!(
                "ssm-audit: waiting for another ingest into {} to finish",
                escape_text(&dir.display().to_string())
            );
            flock(&file, FlockOperation::LockExclusive)
                .with_context(|| format!("cannot lock {}", path.display()))?;
        }
        Ok(WriterLock { _file: file })
    }

    /// Pull the published index into the cache.
    pub fn sync(&self) -> Result<Option<SyncStats>> {
        let cache = self
            .cache
            .as_ref()
            .context("sync needs --store s3://bucket/prefix")?;
        publish::sync(&*self.store, cache).with_context(|| {
            format!(
                "cannot sync the index of {} into {}",
                self.describe(),
                cache.display()
            )
        })
    }

    pub fn records(&self) -> Result<Vec<SessionRecord>> {
        let what = || format!("cannot read the records of {}", self.describe());
        match &self.cache {
            None => rebuild::load_records(&*self.store).with_context(what),
            Some(cache) => match std::fs::read(cache.join(ssm_audit_core::keys::RECORDS)) {
                Ok(b) => serde_json::from_slice(&b).with_context(what),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(e).with_context(what),
            },
        }
    }

    /// Correlate everything in the store again and rebuild the index: in the data folder, or,
    /// with an S3 store, published there (then synced into the cache).
    pub fn rebuild(&self) -> Result<Vec<SessionRecord>> {
        let opts = CorrelateOptions::default();
        let Some(cache) = &self.cache else {
            return rebuild::rebuild(&*self.store, &self.index_dir, &opts)
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| {
                    format!("cannot rebuild the index in {}", self.index_dir.display())
                });
        };
        let now = ssm_audit_core::time::rfc3339(time::OffsetDateTime::now_utc());
        let work = cache.join("writer");
        let store = &*self.store;
        publish::publish(store, &work, &now, &mut |dir| {
            rebuild::rebuild_synced(store, dir, &opts).map_err(|e| e.to_string())
        })
        .with_context(|| format!("cannot publish the index to {}", self.describe()))?;
        // the index published, for the ledger (the indexer in AWS seals it)
        let index: Vec<_> = ssm_audit_core::provenance::published_index(store)?
            .into_iter()
            .collect();
        ssm_audit_core::custody::ledger::hold(store, &index)
            .with_context(|| format!("cannot record the index published in {}", self.describe()))?;
        self.sync()?;
        self.records()
    }

    /// The AWS configuration, made now if the store did not need it.
    pub fn aws(&mut self) -> Result<&Aws> {
        if self.aws.is_none() {
            self.aws = Some(Aws::new()?);
        }
        Ok(self.aws.as_ref().expect("just set"))
    }
}
