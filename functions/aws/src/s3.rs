//! The [`Store`] on S3: `s3://bucket/prefix`, through aws-sdk-s3.
//!
//! The store is synchronous (the core is); each call runs on a tokio runtime through its
//! handle, so it must be called from outside async code (a plain thread, or
//! `tokio::task::spawn_blocking` in a Lambda handler).

use std::io::{self, Write};
use std::path::Path;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::result::SdkError;
use ssm_audit_core::store::{Expect, Store};
use tokio::runtime::Handle;

/// `s3://bucket/prefix` split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// empty, or ending with `/`
    pub prefix: String,
}

impl std::str::FromStr for S3Url {
    type Err = String;
    fn from_str(s: &str) -> Result<S3Url, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{s:?} is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{s:?} names no bucket"));
        }
        let prefix = prefix.trim_matches('/');
        Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// The AWS configuration the standard way (environment, shared config and profiles, SSO),
/// with `AWS_ENDPOINT_URL` honoured. Throttling (LookupEvents allows 2 requests a second,
/// FilterLogEvents and S3 have their own limits) is retried with adaptive back-off, up to 8
/// attempts, unless `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` says otherwise.
pub async fn aws_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
        && std::env::var_os("AWS_RETRY_MODE").is_none()
    {
        loader =
            loader.retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(8));
    }
    loader.load().await
}

/// Download an object to a file as it streams (an object may be larger than memory); where
/// it came from, for its custody: its version, ETag, time, a digest's signature, how many
/// versions the key has (more than one: it was overwritten) and its Object Lock.
pub async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
) -> anyhow::Result<ssm_audit_core::custody::Origin> {
    let mut o = s3.get_object().bucket(bucket).key(key).send().await?;
    let origin = ssm_audit_core::custody::Origin {
        bucket: Some(bucket.to_owned()),
        key: Some(key.to_owned()),
        version_id: o.version_id().map(str::to_owned),
        etag: o.e_tag().map(str::to_owned),
        last_modified: o.last_modified().map(|t| t.to_string()),
        signature: o.metadata().and_then(|m| m.get("signature")).cloned(),
        versions: versions_of(s3, bucket, key).await?,
        object_lock_mode: o.object_lock_mode().map(|m| m.as_str().to_owned()),
        object_lock_retain_until: o.object_lock_retain_until_date().map(|t| t.to_string()),
        ..Default::default()
    };
    let mut f = std::fs::File::create(path)?;
    while let Some(chunk) = o.body.try_next().await? {
        f.write_all(&chunk)?;
    }
    f.flush()?;
    Ok(origin)
}

/// How many versions `key` has (1 in a bucket without versioning), `None` when listing them
/// is not allowed (`s3:ListBucketVersions`): said in the log, and the custody record has no
/// count. Any other failure fails the read (a retry may cure it).
pub async fn versions_of(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> anyhow::Result<Option<u64>> {
    let mut n = 0u64;
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(key)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if status(&e) == Some(403) => {
                tracing::warn!(
                    bucket,
                    key,
                    "cannot list the object's versions (s3:ListBucketVersions): whether it \
                     was overwritten is not recorded"
                );
                return Ok(None);
            }
            Err(e) => return Err(sdk_err(&format!("s3://{bucket}/{key}: versions"), e).into()),
        };
        n += page
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .count() as u64;
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
        if key_marker.is_none() && version_marker.is_none() {
            break;
        }
    }
    Ok(Some(n))
}

/// An S3 client; path-style addressing when an endpoint is set (a local S3 has no DNS names
/// per bucket).
pub fn s3_client(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let c = aws_sdk_s3::config::Builder::from(conf)
        .force_path_style(conf.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(c)
}

#[derive(Clone, Debug)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    url: S3Url,
    rt: Handle,
}

fn sdk_err<E, R>(what: &str, e: SdkError<E, R>) -> io::Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    io::Error::other(format!("{what}: {}", DisplayErrorContext(e)))
}

/// The HTTP status of a failed call, when the service answered.
fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HttpStatus::status)
}

trait HttpStatus {
    fn status(&self) -> u16;
}
impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, url: S3Url, rt: Handle) -> S3Store {
        S3Store { client, url, rt }
    }

    pub fn url(&self) -> &S3Url {
        &self.url
    }

    fn key(&self, key: &str) -> io::Result<String> {
        ssm_audit_core::store::check_key(key)?;
        Ok(format!("{}{key}", self.url.prefix))
    }

    fn name(&self, key: &str) -> String {
        format!("s3://{}/{}{key}", self.url.bucket, self.url.prefix)
    }

    async fn get_object(
        &self,
        key: &str,
    ) -> io::Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>> {
        let full = self.key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.url.bucket)
            .key(full)
            .send()
            .await
        {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(sdk_err(&self.name(key), e)),
        }
    }
}

impl Store for S3Store {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.get_tagged(key)?.map(|(b, _)| b))
    }

    fn get_tagged(&self, key: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        self.rt.block_on(async {
            let Some(o) = self.get_object(key).await? else {
                return Ok(None);
            };
            let tag = o.e_tag().unwrap_or_default().to_owned();
            let body = o
                .body
                .collect()
                .await
                .map_err(|e| io::Error::other(format!("{}: {e}", self.name(key))))?;
            Ok(Some((body.into_bytes().to_vec(), tag)))
        })
    }

    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let full = self.key(key)?;
        self.rt.block_on(async {
            self.client
                .put_object()
                .bucket(&self.url.bucket)
                .key(full)
                .body(ByteStream::from(bytes.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_err(&self.name(key), e))?;
            Ok(())
        })
    }

    fn put_if(&self, key: &str, bytes: &[u8], expect: Expect<'_>) -> io::Result<Option<String>> {
        let full = self.key(key)?;
        self.rt.block_on(async {
            let mut req = self
                .client
                .put_object()
                .bucket(&self.url.bucket)
                .key(full)
                .body(ByteStream::from(bytes.to_vec()));
            req = match expect {
                Expect::Absent => req.if_none_match("*"),
                Expect::Tag(t) => req.if_match(t),
            };
            match req.send().await {
                Ok(o) => Ok(Some(o.e_tag().unwrap_or_default().to_owned())),
                // 412: the precondition failed; 409: a concurrent conditional write is in
                // progress (S3 says to retry). Both mean: read again.
                Err(e) if matches!(status(&e), Some(412 | 409)) => Ok(None),
                Err(e) if e.code() == Some("PreconditionFailed") => Ok(None),
                Err(e) => Err(sdk_err(&self.name(key), e)),
            }
        })
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let full = format!("{}{prefix}", self.url.prefix);
        let strip = self.url.prefix.len();
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.url.bucket)
                .prefix(full)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_err(&self.name(prefix), e))?;
                for o in page.contents() {
                    if let Some(k) = o.key() {
                        out.push(k[strip..].to_owned());
                    }
                }
            }
            out.sort();
            Ok(out)
        })
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let full = self.key(key)?;
        self.rt.block_on(async {
            self.client
                .delete_object()
                .bucket(&self.url.bucket)
                .key(full)
                .send()
                .await
                .map_err(|e| sdk_err(&self.name(key), e))?;
            Ok(())
        })
    }

    fn describe(&self) -> String {
        self.url.to_string()
    }

    /// Each read waits a round trip: the indexer reads session texts 16 at a time.
    fn parallel_reads(&self) -> usize {
        16
    }

    fn get_to_file(&self, key: &str, path: &Path) -> io::Result<bool> {
        self.rt.block_on(async {
            let Some(mut o) = self.get_object(key).await? else {
                return Ok(false);
            };
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            while let Some(chunk) = o
                .body
                .try_next()
                .await
                .map_err(|e| io::Error::other(format!("{}: {e}", self.name(key))))?
            {
                tmp.write_all(&chunk)?;
            }
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(true)
        })
    }

    fn put_file(&self, key: &str, path: &Path) -> io::Result<()> {
        let full = self.key(key)?;
        self.rt.block_on(async {
            let body = ByteStream::from_path(path)
                .await
                .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
            self.client
                .put_object()
                .bucket(&self.url.bucket)
                .key(full)
                .body(body)
                .send()
                .await
                .map_err(|e| sdk_err(&self.name(key), e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::S3Url;

    #[test]
    fn urls() {
        let u: S3Url = "s3://b/audit/x/".parse().unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("b", "audit/x/"));
        let u: S3Url = "s3://b".parse().unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("b", ""));
        assert_eq!(u.to_string(), "s3://b/");
        assert!("s3:///x".parse::<S3Url>().is_err());
        assert!("/tmp/x".parse::<S3Url>().is_err());
    }
}
