//! ssm-audit in AWS: the [`s3::S3Store`], and the Lambda handlers that the binaries in
//! `src/bin/` wrap.

pub mod s3;
#[doc(hidden)]
pub mod testing;
