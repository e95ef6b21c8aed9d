//! Integration tests of the indexer crate: one binary, a module per area.

mod common;
mod correlation;
mod custody;
mod custody_gen;
mod hostile;
mod invisible;
mod multiplexer;
mod oracle;
mod props;
mod recordings;
mod ref_cases;
mod samples;
mod updates;
