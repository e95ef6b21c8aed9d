//! The custody ledger's signer in AWS: a KMS asymmetric key (RSA, `SIGN_VERIFY`) that the
//! template declares and only the indexer may use (`kms:Sign`). No one can read its private
//! half, so the ledger proves the store unchanged even against whoever can write the bucket.

use std::io;

use anyhow::{Context as _, Result};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine as _;
use ssm_audit_core::custody::ledger::{Signer, RSA_PKCS1_SHA256};
use tokio::runtime::Handle;

/// Signs through `kms:Sign`; the store is synchronous, so each call runs on `rt` (call it from
/// a plain thread or `spawn_blocking`).
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    /// the key's ARN, as KMS names it
    key_id: String,
    /// base64 of the DER SubjectPublicKeyInfo
    public_key: String,
    rt: Handle,
}

impl KmsSigner {
    /// The key `key_id` (id, ARN or alias), which must sign `RSASSA_PKCS1_V1_5_SHA_256`.
    pub async fn new(conf: &aws_config::SdkConfig, key_id: &str, rt: Handle) -> Result<KmsSigner> {
        let client = aws_sdk_kms::Client::new(conf);
        let out = client
            .get_public_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_kms::error::DisplayErrorContext(e)))
            .with_context(|| format!("cannot read the public key of KMS key {key_id}"))?;
        if !out
            .signing_algorithms()
            .contains(&SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
        {
            anyhow::bail!(
                "KMS key {key_id} cannot sign {RSA_PKCS1_SHA256} (key spec {:?}): the ledger \
                 needs an RSA SIGN_VERIFY key",
                out.key_spec()
            );
        }
        let der = out
            .public_key()
            .with_context(|| format!("KMS key {key_id}: no public key"))?;
        Ok(KmsSigner {
            key_id: out.key_id().unwrap_or(key_id).to_owned(),
            public_key: base64::engine::general_purpose::STANDARD.encode(der.as_ref()),
            client,
            rt,
        })
    }
}

impl Signer for KmsSigner {
    fn algorithm(&self) -> &'static str {
        RSA_PKCS1_SHA256
    }

    fn key_id(&self) -> Option<String> {
        Some(self.key_id.clone())
    }

    fn public_key(&self) -> String {
        self.public_key.clone()
    }

    fn sign(&self, msg: &[u8]) -> io::Result<String> {
        self.rt.block_on(async {
            let out = self
                .client
                .sign()
                .key_id(&self.key_id)
                .message(Blob::new(msg))
                .message_type(MessageType::Raw)
                .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
                .send()
                .await
                .map_err(|e| {
                    io::Error::other(format!(
                        "kms:Sign with {}: {}",
                        self.key_id,
                        aws_sdk_kms::error::DisplayErrorContext(e)
                    ))
                })?;
            let sig = out
                .signature()
                .ok_or_else(|| io::Error::other("kms:Sign returned no signature"))?;
            Ok(hex::encode(sig.as_ref()))
        })
    }
}
