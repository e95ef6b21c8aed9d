//! ssm-audit in AWS: the [`s3::S3Store`], and the Lambda handlers that the binaries in
//! `src/bin/` wrap.

pub mod handlers;
pub mod s3;
#[doc(hidden)]
pub mod testing;

/// The `main` of a Lambda binary: the handler `$f` of [`handlers`], served by the runtime with
/// one [`handlers::Ctx`] made from the environment at cold start.
#[macro_export]
macro_rules! lambda_main {
    ($f:ident) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_runtime::Error> {
            lambda_runtime::tracing::init_default_subscriber();
            let ctx = $crate::handlers::Ctx::from_env().await?;
            let ctx = &ctx;
            lambda_runtime::run(lambda_runtime::service_fn(
                move |e: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                    $crate::handlers::$f(ctx, e).await
                },
            ))
            .await
        }
    };
}
pub mod backfill;
