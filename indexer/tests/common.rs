use std::path::{Path, PathBuf};

use ssm_audit_core::render::{Command, VecSink};
use ssm_audit_core::transcript::{render_transcript, Rendered, SizeChoice};

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

pub fn render_bytes(bytes: &[u8], size: SizeChoice) -> (Rendered, VecSink) {
    render_transcript(bytes, size, VecSink::default()).expect("reading from memory cannot fail")
}

pub fn render_file(path: &Path, size: SizeChoice) -> (Rendered, VecSink) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    render_bytes(&bytes, size)
}

pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Subdirectories of a test data folder, sorted.
pub fn cases(rel: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data(rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no cases under {rel}");
    v
}

/// `COLSxROWS`
pub fn parse_size(s: &str) -> (u16, u16) {
    let (c, r) = s.trim().split_once('x').expect("size is COLSxROWS");
    (c.parse().unwrap(), r.parse().unwrap())
}

/// The texts of commands (or cancelled lines).
pub fn texts(v: &[Command]) -> Vec<&str> {
    v.iter().map(|c| c.text.as_str()).collect()
}
