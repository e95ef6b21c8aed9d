//! For tests: a moto server on 127.0.0.1 and clients that talk to it.
//!
//! The server is started once per test process and stops when the process ends (a shell
//! beside it watches the parent). `moto_server` comes from `MOTO_SERVER`, else `PATH`
//! (`scripts/test.sh` installs it in a venv).

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
}

/// The shared moto server; panics with the reason when it cannot be started.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start().unwrap_or_else(|e| panic!("cannot start moto_server: {e}")))
}

fn start() -> Result<Moto, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    // the shell kills moto when this process is gone
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
        parent = std::process::id()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{bin}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{bin} did not listen on 127.0.0.1:{port} within 30 s"
    ))
}

impl Moto {
    /// An AWS configuration for the server: dummy static credentials, one region, no retries
    /// (moto's 500s would otherwise cost seconds of back-off).
    pub fn config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "moto"),
            ))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    }

    /// Environment variables that point the SDK's standard configuration at the server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_MAX_ATTEMPTS", "1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// A fresh bucket with a unique name.
pub async fn bucket(client: &aws_sdk_s3::Client, name: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let b = format!("{name}-{}-{n}", std::process::id());
    client
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {b}: {e:?}"));
    b
}

/// A multi-threaded runtime for tests that call the (blocking) store from plain threads.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime")
}

/// The session id a recording's `script` header names.
pub fn session_of(log: &[u8]) -> String {
    ssm_audit_core::transcript::header_of(log)
        .session_id
        .expect("a header that names the session")
}
