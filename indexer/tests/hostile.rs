//! Hostile sequences: what the renderer bounds it says it bounded, and loses no text doing it.

use ssm_audit_core::rebuild;
use ssm_audit_core::render::MAX_LINE_BYTES;
use ssm_audit_core::transcript::SizeChoice;

use crate::common::render_bytes;

fn at_80x24() -> SizeChoice {
    SizeChoice {
        cols: Some(80),
        rows: Some(24),
    }
}

#[test]
fn a_repeat_past_one_screen_width_is_counted() {
    let (r, sink) = render_bytes(b"x\x1b[999b\r\n", at_80x24());
    assert_eq!(r.summary.repeats_capped, 999 - 80);
    let text: String = sink.lines.concat();
    assert_eq!(text.trim_end().len(), 81, "{text:?}");
    // a repeat within the width costs nothing and says nothing
    let (r, _) = render_bytes(b"x\x1b[79b\r\n", at_80x24());
    assert_eq!(r.summary.repeats_capped, 0);
}

#[test]
fn a_line_past_the_cap_is_split_not_lost() {
    let n = 3 * MAX_LINE_BYTES + 123;
    let mut input = vec![b'a'; n];
    input.extend_from_slice(b"\r\n");
    let (r, sink) = render_bytes(&input, at_80x24());
    assert!(
        r.summary.long_lines_split >= 2,
        "{}",
        r.summary.long_lines_split
    );
    let kept: usize = sink.lines.iter().map(|l| l.trim_end().len()).sum();
    assert_eq!(kept, n);
}

#[test]
fn scroll_spam_gives_at_most_a_screen_of_lines_a_sequence() {
    let seqs = 10_000;
    let input = b"x\x1b[999S".repeat(seqs);
    let (r, _) = render_bytes(&input, at_80x24());
    assert!(
        r.summary.lines <= (seqs as u64 + 1) * 24,
        "{}",
        r.summary.lines
    );
}

// ---- encodings and bad bytes in evidence ----------------------------------------------------

fn start_record(n: usize) -> serde_json::Value {
    let mut r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::data(
            "data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json",
        ))
        .unwrap(),
    )
    .unwrap();
    r["eventID"] = serde_json::json!(format!("enc-{n}"));
    r["responseElements"] = serde_json::json!({ "sessionId": format!("enc{n}-0e34861185201706f") });
    r
}

/// Ingest files into a new store: (the report, the session ids the facts name).
fn ingest(files: &[(&str, Vec<u8>)]) -> (ssm_audit_core::ingest::IngestReport, Vec<String>) {
    use ssm_audit_core::{ingest, store::LocalStore};
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("store")).unwrap();
    let mut report = ingest::IngestReport::default();
    for (name, bytes) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        ingest::ingest_file(&store, &p, &mut report).unwrap();
    }
    let mut ids: Vec<String> = rebuild::load_facts(&store)
        .unwrap()
        .into_iter()
        .filter_map(|f| f.session_id)
        .collect();
    ids.sort();
    ids.dedup();
    (report, ids)
}

fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if le { [0xff, 0xfe] } else { [0xfe, 0xff] });
    }
    for u in s.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn trail_files_with_a_byte_order_mark_or_in_utf16_are_read() {
    let doc = serde_json::json!({ "Records": [start_record(1)] }).to_string();
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend(doc.as_bytes());
    for (what, bytes) in [
        ("utf8-bom", bom),
        ("utf16le-bom", utf16(&doc, true, true)),
        ("utf16be-bom", utf16(&doc, false, true)),
        ("utf16le", utf16(&doc, true, false)),
        ("utf16be", utf16(&doc, false, false)),
    ] {
        let (report, ids) = ingest(&[("trail.json", bytes)]);
        assert!(report.failed.is_empty(), "{what}: {:?}", report.failed);
        assert_eq!(ids, ["enc1-0e34861185201706f"], "{what}: {report:?}");
    }
}

#[test]
fn invalid_utf8_in_one_trail_record_spoils_no_other() {
    let mut raw = b"{\"Records\":[".to_vec();
    for i in 0..5 {
        if i > 0 {
            raw.push(b',');
        }
        let r = start_record(i).to_string();
        if i == 1 {
            // a user agent with bytes that are not UTF-8 (the last a sequence cut short)
            let at = r.find("\"userAgent\":\"").unwrap() + "\"userAgent\":\"".len();
            raw.extend(&r.as_bytes()[..at]);
            raw.extend([0xff, 0xfe, 0xc3]);
            raw.extend(&r.as_bytes()[at..]);
        } else {
            raw.extend(r.as_bytes());
        }
    }
    raw.extend(b"]}");
    for gz in [false, true] {
        let input = if gz { gzip(&raw) } else { raw.clone() };
        let (report, ids) = ingest(&[("trail.json", input)]);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(ids.len(), 5, "{ids:?}");
    }
    // the same bytes cut at every place a reader may cut them
    for cut in [1, 2, 3, 7, 4096] {
        let mut out = String::new();
        let mut r = ssm_audit_core::formats::LossyUtf8::new(Chunks(&raw, cut));
        std::io::Read::read_to_string(&mut r, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Records"].as_array().unwrap().len(), 5);
        assert!(out.contains('\u{fffd}'));
    }
}

/// A reader handing out at most `.1` bytes a read.
struct Chunks<'a>(&'a [u8], usize);

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn json_behind_much_whitespace_is_still_json() {
    let doc = serde_json::json!({ "Records": [start_record(7)] }).to_string();
    let mut bytes = vec![b' '; 200 << 10];
    bytes.extend(doc.as_bytes());
    for gz in [false, true] {
        let input = if gz { gzip(&bytes) } else { bytes.clone() };
        let (report, ids) = ingest(&[("padded.json", input)]);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(ids, ["enc7-0e34861185201706f"]);
    }
    // nothing but whitespace, gzip'd: an empty input, not a hang or a bomb read whole
    let (report, ids) = ingest(&[("blank.log", gzip(&vec![b' '; 4 << 20]))]);
    assert!(ids.is_empty());
    assert_eq!(report.inputs_skipped.len(), 1, "{report:?}");
}

#[test]
fn a_repeat_draws_what_the_character_typed_again_draws() {
    for (rep, typed) in [
        (&b"x\x1b[5b\r\n"[..], &b"xxxxxx\r\n"[..]),
        // across the margin, under the line-drawing set, after a wide character
        (b"\x1b[1;77Hab\x1b[6b\r\n", b"\x1b[1;77Habbbbbbb\r\n"),
        (b"\x1b(0q\x1b[3b\x1b(B\r\n", b"\x1b(0qqqq\x1b(B\r\n"),
        ("日\x1b[2b\r\n".as_bytes(), "日日日\r\n".as_bytes()),
        (b"\x1b[4h ab\x1b[1D\x1b[2b\r\n", b"\x1b[4h ab\x1b[1Dbb\r\n"),
    ] {
        let (_, a) = render_bytes(rep, at_80x24());
        let (_, b) = render_bytes(typed, at_80x24());
        assert_eq!(a.lines, b.lines, "{:?}", String::from_utf8_lossy(rep));
    }
}
