//! Where ssm-audit keeps what it has ingested: facts, transcript copies and rendered text.
//!
//! One small trait with a local-folder implementation (the default: the whole pipeline runs
//! on a laptop) and, with the AWS issue, an S3 one. Keys are `/`-separated relative paths.
//! Writes are whole-object and atomic (a reader never sees half a file), the contract S3
//! gives too.

use std::io;
use std::path::{Path, PathBuf};

pub trait Store: Send + Sync {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    /// Keys under `prefix`, sorted.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
    fn delete(&self, key: &str) -> io::Result<()>;
    /// A human name for messages: the folder or the bucket/prefix.
    fn describe(&self) -> String;
}

/// A folder on disk.
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<LocalStore> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(LocalStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if key.is_empty()
            || key
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad store key {key:?}"),
            ));
        }
        Ok(self.root.join(key))
    }
}

impl Store for LocalStore {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(key)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().expect("a joined key has a parent");
        std::fs::create_dir_all(dir)?;
        // unique per process and per write, so threads writing the same key never share one
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = path
            .file_name()
            .expect("a key names a file")
            .to_string_lossy();
        let tmp = dir.join(format!(".{name}.tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let base = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.path(prefix.trim_end_matches('/'))?
        };
        let mut stack = vec![base];
        while let Some(dir) = stack.pop() {
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for e in rd {
                let e = e?;
                let p = e.path();
                if e.file_type()?.is_dir() {
                    stack.push(p);
                } else if !e.file_name().to_string_lossy().starts_with('.') {
                    let rel = p.strip_prefix(&self.root).expect("under root");
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// The shared suite every implementation must pass.
#[cfg(test)]
pub(crate) fn check_store(s: &dyn Store) {
    assert_eq!(s.get("a/b.json").unwrap(), None);
    s.put("a/b.json", b"one").unwrap();
    s.put("a/c/d.log", b"two").unwrap();
    s.put("z.txt", b"three").unwrap();
    assert_eq!(s.get("a/b.json").unwrap().as_deref(), Some(&b"one"[..]));
    s.put("a/b.json", b"uno").unwrap();
    assert_eq!(s.get("a/b.json").unwrap().as_deref(), Some(&b"uno"[..]));
    assert_eq!(s.list("a/").unwrap(), ["a/b.json", "a/c/d.log"]);
    assert_eq!(s.list("").unwrap().len(), 3);
    s.delete("a/b.json").unwrap();
    s.delete("a/b.json").unwrap();
    assert_eq!(s.list("a").unwrap(), ["a/c/d.log"]);
    assert!(s.put("../escape", b"x").is_err());
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_store_passes_the_shared_suite() {
        let dir = std::env::temp_dir().join(format!("ssm-audit-store-{}", std::process::id()));
        let s = super::LocalStore::open(&dir).unwrap();
        super::check_store(&s);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
