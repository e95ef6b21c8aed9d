//! Proof: a chain of custody from AWS's own signatures to every answer.
//!
//! - [`digest`]: CloudTrail's signed digest files, checked offline.
//! - Every object ingest reads or keeps gets a [`Custody`] record: its SHA-256 (as stored,
//!   and of its content once gzip is undone), size, where it came from and when it was read.
//! - [`ledger`]: those records in an append-only, hash-chained, signed ledger in the store.
//! - [`verify`]: all of it checked again: digests and trail files, every kept copy re-hashed
//!   against the ledger, the ledger's chain and signatures.

pub mod bundle;
pub mod digest;
pub mod ledger;
pub mod verify;

pub use crate::provenance::*;
