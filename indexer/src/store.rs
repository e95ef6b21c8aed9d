//! Where ssm-audit keeps what it has ingested: facts, transcript copies and rendered text.
//!
//! One small trait with a local-folder implementation (the default: the whole pipeline runs
//! on a laptop) and, with the AWS issue, an S3 one. Keys are `/`-separated relative paths.
//! Writes are whole-object and atomic (a reader never sees half a file), the contract S3
//! gives too.

use std::io;
use std::path::{Path, PathBuf};

/// What a conditional write expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect<'a> {
    /// No object under the key (S3 `If-None-Match: *`).
    Absent,
    /// The object with this tag (S3 `If-Match: <etag>`).
    Tag(&'a str),
}

pub trait Store: Send + Sync {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    /// Keys under `prefix`, sorted.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
    fn delete(&self, key: &str) -> io::Result<()>;
    /// A human name for messages: the folder or the bucket/prefix.
    fn describe(&self) -> String;

    /// An object and its version tag (an S3 ETag; a content hash in a folder).
    fn get_tagged(&self, key: &str) -> io::Result<Option<(Vec<u8>, String)>>;
    /// Write only if the object is as `expect` says, atomically with the check. `Some(tag)`
    /// when written; `None` when another writer got there first.
    fn put_if(&self, key: &str, bytes: &[u8], expect: Expect<'_>) -> io::Result<Option<String>>;

    /// A reader of an object, `None` if there is none. A store that can stream says so by
    /// overriding it; the default reads the object into memory.
    fn open_read(&self, key: &str) -> io::Result<Option<Box<dyn io::Read + Send>>> {
        Ok(self
            .get(key)?
            .map(|b| Box::new(io::Cursor::new(b)) as Box<dyn io::Read + Send>))
    }

    /// Copy an object into a file (written whole or not at all); false if there is none.
    /// Large objects should stream: the default reads the object into memory.
    fn get_to_file(&self, key: &str, path: &Path) -> io::Result<bool> {
        match self.get(key)? {
            Some(b) => write_atomic(path, &b).map(|()| true),
            None => Ok(false),
        }
    }
    /// Store a file's content under `key`.
    fn put_file(&self, key: &str, path: &Path) -> io::Result<()> {
        self.put(key, &std::fs::read(path)?)
    }
    /// How many reads are best made at once: a folder's are CPU-bound (1: the indexer's
    /// threads have the cores), an object store's wait on the network.
    fn parallel_reads(&self) -> usize {
        1
    }
    /// Where to make temporary files that [`Store::put_temp_file`] will store: in a folder
    /// store, its own file system (so storing one is a rename); else the system's.
    fn temp_dir(&self) -> PathBuf {
        std::env::temp_dir()
    }
    /// Store a temporary file's content under `key`; the file is gone after (a folder moves
    /// it in place of copying it).
    fn put_temp_file(&self, key: &str, path: tempfile::TempPath) -> io::Result<()> {
        self.put_file(key, &path)
    }
}

pub use crate::keys::check_key;

/// Write a file through a temporary beside it and a rename, so readers never see half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |tmp| std::fs::write(tmp, bytes))
}

/// [`write_atomic`] for content that `write` puts in the temporary file it is given.
/// Make `dir` and its missing parents, private to the user (0700 on Unix): evidence holds
/// what people typed and saw.
pub fn private_dirs(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Make a file private to the user (0600 on Unix), whatever mode it was made or copied with:
/// no mode of an input (setuid, world-writable) reaches the store.
pub fn private_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    write_atomic_in(None, path, write)
}

/// [`write_atomic_with`], the temporary made in `temps` (a folder on the same file system)
/// when given, else beside `path`.
fn write_atomic_in(
    temps: Option<&Path>,
    path: &Path,
    write: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dirs(dir)?;
    if let Some(t) = temps {
        private_dirs(t)?;
    }
    // unique per process and per write, so threads writing the same file never share one
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = temps
        .unwrap_or(dir)
        .join(format!(".{name}.tmp{}-{n}", std::process::id()));
    if let Err(e) = write(&tmp).and_then(|()| private_file(&tmp)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
}

/// A store in memory: for tests, fuzzing and fault injection. Objects are whole byte
/// vectors; a tag is the content's hash, as in a folder.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Vec<u8>>> {
        // a panic elsewhere with the lock held leaves the map whole: every change is one call
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        check_key(key)?;
        Ok(self.objects().get(key).cloned())
    }

    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        check_key(key)?;
        self.objects().insert(key.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        Ok(self
            .objects()
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        check_key(key)?;
        self.objects().remove(key);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn get_tagged(&self, key: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        Ok(self.get(key)?.map(|b| {
            let tag = crate::hash::fnv(&b);
            (b, tag)
        }))
    }

    fn put_if(&self, key: &str, bytes: &[u8], expect: Expect<'_>) -> io::Result<Option<String>> {
        check_key(key)?;
        let mut o = self.objects();
        let now = o.get(key).map(|b| crate::hash::fnv(b));
        let ok = match expect {
            Expect::Absent => now.is_none(),
            Expect::Tag(t) => now.as_deref() == Some(t),
        };
        if !ok {
            return Ok(None);
        }
        o.insert(key.to_owned(), bytes.to_vec());
        Ok(Some(crate::hash::fnv(bytes)))
    }
}

/// The kinds of store operation a [`FaultStore`] counts and fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Get,
    Put,
    List,
    /// a conditional put ([`Store::put_if`])
    PutIf,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Get, Op::Put, Op::List, Op::PutIf];
}

/// A store that fails on purpose, for fault-injection tests: the `n`-th operation of a kind
/// (1-based, counted from when the fault is armed) fails with a timeout, as S3 does on a bad
/// minute, and so does every one after it while `sticky` (a store down for a while) until
/// [`FaultStore::heal`]. Reads of whole files, streams and temporary files count as the
/// operation they are (`get_to_file` a get, `put_file` a put).
pub struct FaultStore {
    inner: std::sync::Arc<dyn Store>,
    state: std::sync::Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    armed: Option<(Op, u64, bool)>,
    counts: std::collections::BTreeMap<Op, u64>,
    failed: u64,
}

impl FaultStore {
    pub fn new(inner: std::sync::Arc<dyn Store>) -> FaultStore {
        FaultStore {
            inner,
            state: Default::default(),
        }
    }

    /// Fail the `n`-th `op` from now (and every operation after it, if `sticky`).
    pub fn arm(&self, op: Op, n: u64, sticky: bool) {
        let mut s = self.lock();
        s.counts.clear();
        s.armed = Some((op, n, sticky));
    }

    /// No more faults.
    pub fn heal(&self) {
        self.lock().armed = None;
    }

    /// How many operations of each kind were made since the last [`FaultStore::arm`] (or
    /// since it was made).
    pub fn counts(&self) -> std::collections::BTreeMap<Op, u64> {
        self.lock().counts.clone()
    }

    /// How many operations failed on purpose.
    pub fn failed(&self) -> u64 {
        self.lock().failed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self, op: Op, key: &str) -> io::Result<()> {
        let mut s = self.lock();
        let n = {
            let c = s.counts.entry(op).or_default();
            *c += 1;
            *c
        };
        let fail = match s.armed {
            Some((o, at, sticky)) if o == op => n == at || (sticky && n > at),
            Some((_, _, true)) => s.failed > 0,
            _ => false,
        };
        if fail {
            s.failed += 1;
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("injected fault: {op:?} #{n} of {key}"),
            ));
        }
        Ok(())
    }
}

impl Store for FaultStore {
    fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        self.check(Op::Get, key)?;
        self.inner.get(key)
    }
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        self.check(Op::Put, key)?;
        self.inner.put(key, bytes)
    }
    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        self.check(Op::List, prefix)?;
        self.inner.list(prefix)
    }
    fn delete(&self, key: &str) -> io::Result<()> {
        self.check(Op::Put, key)?;
        self.inner.delete(key)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn get_tagged(&self, key: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        self.check(Op::Get, key)?;
        self.inner.get_tagged(key)
    }
    fn put_if(&self, key: &str, bytes: &[u8], expect: Expect<'_>) -> io::Result<Option<String>> {
        self.check(Op::PutIf, key)?;
        self.inner.put_if(key, bytes, expect)
    }
    fn open_read(&self, key: &str) -> io::Result<Option<Box<dyn io::Read + Send>>> {
        self.check(Op::Get, key)?;
        self.inner.open_read(key)
    }
    fn get_to_file(&self, key: &str, path: &Path) -> io::Result<bool> {
        self.check(Op::Get, key)?;
        self.inner.get_to_file(key, path)
    }
    fn put_file(&self, key: &str, path: &Path) -> io::Result<()> {
        self.check(Op::Put, key)?;
        self.inner.put_file(key, path)
    }
    fn parallel_reads(&self) -> usize {
        self.inner.parallel_reads()
    }
    fn temp_dir(&self) -> PathBuf {
        self.inner.temp_dir()
    }
    fn put_temp_file(&self, key: &str, path: tempfile::TempPath) -> io::Result<()> {
        self.check(Op::Put, key)?;
        self.inner.put_temp_file(key, path)
    }
}

/// Whether a process with this id is running (on Linux, its `/proc` entry; elsewhere every
/// process is taken as running, so nothing of a live one is removed).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// A folder on disk.
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<LocalStore> {
        let root = root.into();
        private_dirs(&root)?;
        #[cfg(unix)]
        {
            // a folder made before, or by hand: private too
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        }
        let store = LocalStore { root };
        store.clean_stale_temps()?;
        Ok(store)
    }

    /// Remove the temporary files of processes that are gone (killed mid-write): each
    /// process writes its temporaries in `.tmp/<pid>/` (see [`Store::temp_dir`]). How many
    /// folders were removed.
    pub fn clean_stale_temps(&self) -> io::Result<u64> {
        let rd = match std::fs::read_dir(self.root.join(".tmp")) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for e in rd {
            let e = e?;
            let stale = match e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                Some(pid) => pid != std::process::id() && !process_alive(pid),
                // a file of an earlier version's, made straight in `.tmp/`: that version
                // is not running now unless its files are fresh
                None => e
                    .metadata()?
                    .modified()?
                    .elapsed()
                    .is_ok_and(|age| age > std::time::Duration::from_secs(24 * 3600)),
            };
            if stale {
                let p = e.path();
                let r = if e.file_type()?.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                match r {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => removed += 1,
                }
            }
        }
        Ok(removed)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        check_key(key)?;
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
        write_atomic_in(Some(&self.temp_dir()), &self.path(key)?, |tmp| {
            std::fs::write(tmp, bytes)
        })
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

    // files are copied, never read whole into memory (a transcript can be gigabytes)
    fn put_file(&self, key: &str, path: &Path) -> io::Result<()> {
        write_atomic_in(Some(&self.temp_dir()), &self.path(key)?, |tmp| {
            std::fs::copy(path, tmp).map(drop)
        })
    }

    fn temp_dir(&self) -> PathBuf {
        // a dot folder (never listed as a key), one a process: what a killed process left
        // is removed by the next open (`clean_stale_temps`)
        self.root.join(".tmp").join(std::process::id().to_string())
    }

    fn put_temp_file(&self, key: &str, path: tempfile::TempPath) -> io::Result<()> {
        let to = self.path(key)?;
        if let Some(dir) = to.parent() {
            private_dirs(dir)?;
        }
        private_file(&path)?;
        match path.persist(&to) {
            Ok(()) => Ok(()),
            // another file system: copied instead
            Err(e) => self.put_file(key, &e.path),
        }
    }

    fn open_read(&self, key: &str) -> io::Result<Option<Box<dyn io::Read + Send>>> {
        match std::fs::File::open(self.path(key)?) {
            Ok(f) => Ok(Some(Box::new(f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn get_to_file(&self, key: &str, path: &Path) -> io::Result<bool> {
        let from = self.path(key)?;
        match write_atomic_with(path, |tmp| std::fs::copy(&from, tmp).map(drop)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !from.exists() => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn get_tagged(&self, key: &str) -> io::Result<Option<(Vec<u8>, String)>> {
        Ok(self.get(key)?.map(|b| {
            let tag = crate::hash::fnv(&b);
            (b, tag)
        }))
    }

    fn put_if(&self, key: &str, bytes: &[u8], expect: Expect<'_>) -> io::Result<Option<String>> {
        // one lock file for the folder: other processes' conditional writes wait for it; it
        // is released when `lock` is closed
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(".conditional-put.lock"))?;
        lock.lock()?;
        let current = self.get_tagged(key)?.map(|(_, t)| t);
        let ok = match expect {
            Expect::Absent => current.is_none(),
            Expect::Tag(t) => current.as_deref() == Some(t),
        };
        if !ok {
            return Ok(None);
        }
        self.put(key, bytes)?;
        Ok(Some(crate::hash::fnv(bytes)))
    }
}

/// The suite every implementation must pass (run on the folder here and on S3 against a local
/// S3 server by the functions crate). It starts from an empty store and leaves it empty.
#[doc(hidden)]
pub fn check_store(s: &dyn Store) {
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
    // conditional writes: create once, then only from the version read
    let m = "a/manifest.json";
    let t1 = s
        .put_if(m, b"v1", Expect::Absent)
        .unwrap()
        .expect("created");
    assert_eq!(s.put_if(m, b"v1'", Expect::Absent).unwrap(), None);
    let (b, t) = s.get_tagged(m).unwrap().unwrap();
    assert_eq!((b.as_slice(), t.as_str()), (&b"v1"[..], t1.as_str()));
    let t2 = s
        .put_if(m, b"v2", Expect::Tag(&t1))
        .unwrap()
        .expect("updated");
    assert_ne!(t1, t2);
    assert_eq!(s.put_if(m, b"v2'", Expect::Tag(&t1)).unwrap(), None);
    assert_eq!(s.get(m).unwrap().as_deref(), Some(&b"v2"[..]));
    // files in and out
    let dir = std::env::temp_dir().join(format!("ssm-audit-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("in"), &big).unwrap();
    s.put_file("a/big.bin", &dir.join("in")).unwrap();
    assert!(s.get_to_file("a/big.bin", &dir.join("out")).unwrap());
    assert!(std::fs::read(dir.join("out")).unwrap() == big);
    assert!(!s.get_to_file("a/none.bin", &dir.join("none")).unwrap());
    assert!(!dir.join("none").exists());
    std::fs::remove_dir_all(&dir).unwrap();
    // a temporary file of the store's is stored, and gone from where it was
    std::fs::create_dir_all(s.temp_dir()).unwrap();
    let tmp = tempfile::NamedTempFile::new_in(s.temp_dir()).unwrap();
    std::fs::write(tmp.path(), b"rendered").unwrap();
    let (at, path) = (tmp.path().to_owned(), tmp.into_temp_path());
    s.put_temp_file("a/text.json", path).unwrap();
    assert_eq!(
        s.get("a/text.json").unwrap().as_deref(),
        Some(&b"rendered"[..])
    );
    assert!(!at.exists());
    let keys = s.list("").unwrap();
    assert_eq!(
        keys.iter().filter(|k| k.contains("text")).count(),
        1,
        "{keys:?}"
    );
    for k in s.list("").unwrap() {
        s.delete(&k).unwrap();
    }
    assert!(s.list("").unwrap().is_empty());
}

/// The JSON object at `key`, if there is one; one that cannot be read is an error naming it.
pub fn get_json<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> io::Result<Option<T>> {
    match store.get(key)? {
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}"))),
        None => Ok(None),
    }
}

/// [`get_json`] read as it streams from the store, where the store can (a text of up to
/// [`MAX_TEXT_BYTES`] is not held twice, as bytes and as parsed).
pub fn get_json_streamed<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> io::Result<Option<T>> {
    match store.open_read(key)? {
        Some(r) => serde_json::from_reader(io::BufReader::with_capacity(256 << 10, r))
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}"))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_passes_the_shared_suite() {
        check_store(&MemoryStore::new());
    }

    #[test]
    fn what_a_killed_process_left_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::open(dir.path()).unwrap();
        let mine = s.temp_dir();
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(mine.join("busy"), b"in use").unwrap();
        // a process id no process has (above Linux's pid_max)
        let gone = dir.path().join(".tmp").join("4294967295");
        std::fs::create_dir_all(&gone).unwrap();
        std::fs::write(gone.join(".text.json.tmp4294967295-0"), b"half").unwrap();
        s.put("a/b.json", b"{}").unwrap();
        let s = LocalStore::open(dir.path()).unwrap();
        assert!(!gone.exists());
        assert!(
            mine.join("busy").exists(),
            "a live process's temporaries stay"
        );
        assert_eq!(s.get("a/b.json").unwrap().unwrap(), b"{}");
        // the temporary of a write is not beside the file
        let beside: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(beside.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn stored_files_are_private_whatever_the_input_mode() {
        use super::Store;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let store = super::LocalStore::open(&root).unwrap();
        let input = dir.path().join("in.log");
        std::fs::write(&input, b"x").unwrap();
        std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o4777)).unwrap();
        store.put_file("transcripts/a/b.log", &input).unwrap();
        store.put("records.json", b"[]").unwrap();
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("transcripts/a")), 0o700);
        assert_eq!(mode(&root.join("transcripts/a/b.log")), 0o600);
        assert_eq!(mode(&root.join("records.json")), 0o600);
    }

    #[test]
    fn local_store_passes_the_shared_suite() {
        let dir = std::env::temp_dir().join(format!("ssm-audit-store-{}", std::process::id()));
        let s = super::LocalStore::open(&dir).unwrap();
        super::check_store(&s);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
