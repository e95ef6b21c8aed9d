//! Session ids, and the session a transcript's name or an S3 key gives: the one place every
//! stage (decoders, correlation, the store's keys) reads them from.

/// `<principal>-<suffix>`: the principal is everything before the last `-`; the suffix is 17
/// lowercase hex (before 2024) or 26 of `[a-z0-9]`.
pub fn split_session_id(id: &str) -> Option<(&str, &str)> {
    if id.len() > 96 {
        return None;
    }
    let (principal, suffix) = id.rsplit_once('-')?;
    let hex17 = suffix.len() == 17
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let new26 = suffix.len() == 26
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    (!principal.is_empty() && (hex17 || new26)).then_some((principal, suffix))
}

/// The principal a session id names: its part before the suffix, except in an ECS Exec
/// session's id (`ecs-execute-command-<suffix>`), which names ECS, not who started it.
pub fn principal_of_session_id(id: &str) -> Option<&str> {
    split_session_id(id)
        .map(|(p, _)| p)
        .filter(|&p| p != "ecs-execute-command")
}

/// The session id a transcript's name gives, `[prefix/]<sessionId>.log`: an S3 key (decoded
/// already: S3 notifications' encoding is undone where they are read, with
/// [`decode_s3_event_key`]) or a local file's path, taken as it is (`+` is a `+`).
pub fn session_id_from_s3_key(key: &str) -> Option<String> {
    let name = key.rsplit(['/', std::path::MAIN_SEPARATOR]).next()?;
    // a copy someone gzipped keeps its name under the `.gz`
    let id = name
        .strip_suffix(".gz")
        .unwrap_or(name)
        .strip_suffix(".log")?;
    split_session_id(id).map(|_| id.to_owned())
}

/// Decode an object key as S3 notifications give it: URL-encoded, `+` for a space, `%XX` a
/// byte. Only keys from notifications are encoded: listed keys, EventBridge's and local file
/// names are not.
pub fn decode_s3_event_key(key: &str) -> String {
    let plus = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}
