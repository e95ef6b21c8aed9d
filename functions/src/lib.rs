//! ssm-audit in AWS: the Lambda handlers that the binaries in `src/bin/` wrap. The S3 store
//! and the API readers are in `ssm-audit-aws` (`functions/aws/`), which the CLI shares.

pub use ssm_audit_aws::{backfill, s3};

pub mod handlers;

/// The `main` of a Lambda binary: the handler `$f` of [`handlers`], served by the runtime with
/// one [`handlers::Ctx`] made from the environment at cold start.
#[macro_export]
macro_rules! lambda_main {
    ($f:ident) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_runtime::Error> {
            let started = std::time::Instant::now();
            lambda_runtime::tracing::init_default_subscriber();
            let ctx = $crate::handlers::Ctx::from_env().await?;
            let ctx = &ctx;
            lambda_runtime::tracing::info!(
                function = stringify!($f),
                init_ms = started.elapsed().as_secs_f64() * 1e3,
                "initialised"
            );
            lambda_runtime::run(lambda_runtime::service_fn(
                move |e: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                    let t = std::time::Instant::now();
                    let out = $crate::handlers::$f(ctx, e).await;
                    lambda_runtime::tracing::info!(
                        function = stringify!($f),
                        duration_ms = t.elapsed().as_secs_f64() * 1e3,
                        max_rss_kb = $crate::max_rss_kb(),
                        ok = out.is_ok(),
                        "invocation"
                    );
                    out
                },
            ))
            .await
        }
    };
}

/// The process's peak resident memory (Linux `VmHWM`), as Lambda reports "Max Memory Used".
pub fn max_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
