//! `ssm-audit render`: a transcript as the text the user saw, its commands, or JSON.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use ssm_audit_core::escape::{escape_text, json_safe};
use ssm_audit_core::formats;
use ssm_audit_core::render::{AlternateScreen, Command, Sink};
use ssm_audit_core::transcript::{render_transcript, Rendered, SizeChoice};

#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// The transcript: an S3 `.log` object, a CloudWatch upload, or raw PTY output; `-` for stdin
    pub file: PathBuf,
    /// Print the commands run, one per line
    #[arg(long, conflicts_with = "json")]
    pub commands: bool,
    /// Print {width, width_source, header, lines, commands, cancelled, inputs, alternate_screens}
    #[arg(long)]
    pub json: bool,
    /// Terminal width (columns) to render at, instead of the inferred one
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=4096))]
    pub width: Option<u16>,
    /// Terminal height (rows) to render at, instead of the inferred one
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub height: Option<u16>,
    /// Also print the snapshots of full-screen programs (vim, less, top) after the text
    #[arg(long)]
    pub alternate_screens: bool,
}

/// Streams plain text lines to the output as they are rendered.
struct TextSink<W: Write> {
    out: W,
    keep_commands: bool,
    /// the snapshots of full-screen programs, spooled as text to print after the text (none
    /// kept in memory, none left out)
    alt: Option<BufWriter<File>>,
    err: Option<io::Error>,
}

impl<W: Write> Sink for TextSink<W> {
    fn line(&mut self, _n: u64, text: &str) {
        if self.err.is_none() {
            // written, not formatted: a screen scrolled over and over gives millions of lines
            let t = escape_text(text);
            let r = self
                .out
                .write_all(t.as_bytes())
                .and_then(|()| self.out.write_all(b"\n"));
            if let Err(e) = r {
                self.err = Some(e);
            }
        }
    }
    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        let Some(w) = self.alt.as_mut() else { return };
        if self.err.is_some() {
            return;
        }
        let mut write = || -> io::Result<()> {
            writeln!(
                w,
                "--- alternate screen {} (full-screen program started at line {}) ---",
                screen.index, screen.after_line
            )?;
            for l in &screen.lines {
                writeln!(w, "{}", escape_text(l))?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            self.err = Some(e);
        }
    }
    fn keep_commands(&self) -> bool {
        self.keep_commands
    }
}

/// Spools lines and snapshots as JSON to temporary files, so a huge transcript's JSON is
/// written in the documented key order without holding it in memory.
struct JsonSpool {
    lines: BufWriter<File>,
    alt: BufWriter<File>,
    n_lines: u64,
    n_alt: u64,
    err: Option<io::Error>,
}

impl JsonSpool {
    fn write(w: &mut BufWriter<File>, first: bool, v: &impl serde::Serialize) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, v)?;
        Ok(())
    }
}

impl Sink for JsonSpool {
    fn line(&mut self, _n: u64, text: &str) {
        if self.err.is_none() {
            self.err = Self::write(&mut self.lines, self.n_lines == 0, &text).err();
        }
        self.n_lines += 1;
    }
    fn alternate_screen(&mut self, screen: &AlternateScreen) {
        if self.err.is_none() {
            self.err = Self::write(&mut self.alt, self.n_alt == 0, screen).err();
        }
        self.n_alt += 1;
    }
}

/// The input, gzip undone as `ingest` does; input that is not a transcript is an error that
/// says what it looks like.
fn open_input(path: &PathBuf) -> Result<Box<dyn BufRead>> {
    let shown = escape_text(&path.display().to_string()).into_owned();
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {shown}"))?)
    };
    let mut input =
        formats::open_maybe_gzip(raw).with_context(|| format!("cannot read {shown}"))?;
    let head = input
        .fill_buf()
        .with_context(|| format!("cannot read {shown}"))?;
    let format = formats::detect(head);
    if format != formats::Format::Transcript {
        anyhow::bail!(
            "{shown} looks like {}, not a transcript: `ssm-audit ingest {shown}` reads it",
            format.describe()
        );
    }
    Ok(input)
}

pub fn run(args: &RenderArgs, out: &mut dyn Write) -> Result<bool> {
    let input = open_input(&args.file)?;
    let size = SizeChoice {
        cols: args.width,
        rows: args.height,
    };
    let name = args.file.display();
    if args.json {
        let spool = JsonSpool {
            lines: BufWriter::new(tempfile::tempfile()?),
            alt: BufWriter::new(tempfile::tempfile()?),
            n_lines: 0,
            n_alt: 0,
            err: None,
        };
        let (rendered, spool) =
            render_transcript(input, size, spool).with_context(|| format!("cannot read {name}"))?;
        if let Some(e) = spool.err {
            return Err(e).context("cannot write the temporary spool");
        }
        write_json(out, &rendered, spool)?;
        return Ok(rendered.summary.lines > 0);
    }
    if args.commands {
        let sink = TextSink {
            keep_commands: true,
            out: io::sink(),
            alt: None,
            err: None,
        };
        let (rendered, _) =
            render_transcript(input, size, sink).with_context(|| format!("cannot read {name}"))?;
        for c in &rendered.summary.commands {
            writeln!(out, "{}", escape_text(&c.text))?;
        }
        say_dropped(&rendered);
        return Ok(!rendered.summary.commands.is_empty());
    }
    let alt = if args.alternate_screens {
        Some(BufWriter::new(tempfile::tempfile()?))
    } else {
        None
    };
    let sink = TextSink {
        out: BufWriter::new(&mut *out),
        keep_commands: false,
        alt,
        err: None,
    };
    let (rendered, mut sink) =
        render_transcript(input, size, sink).with_context(|| format!("cannot read {name}"))?;
    if let Some(e) = sink.err.take() {
        return Err(e.into());
    }
    if let Some(alt) = sink.alt.take() {
        copy_spool(alt, &mut sink.out)?;
    }
    sink.out.flush()?;
    say_dropped(&rendered);
    Ok(rendered.summary.lines > 0)
}

/// Commands past the renderer's memory budget are counted, not kept: say so.
fn say_dropped(r: &Rendered) {
    if r.summary.commands_dropped > 0 {
        eprintln!(
            "ssm-audit: {} more commands were run than the renderer keeps (its memory budget); \
             they are counted, not listed",
            r.summary.commands_dropped
        );
    }
    if r.summary.long_lines_split > 0 {
        eprintln!(
            "ssm-audit: {} lines longer than {} MiB were given as several lines",
            r.summary.long_lines_split,
            ssm_audit_core::render::MAX_LINE_BYTES >> 20
        );
    }
    if r.summary.repeats_capped > 0 {
        eprintln!(
            "ssm-audit: {} characters repeated (CSI n b) past one screen width were not drawn",
            r.summary.repeats_capped
        );
    }
}

fn write_json(out: &mut dyn Write, r: &Rendered, spool: JsonSpool) -> Result<()> {
    let mut out = BufWriter::new(out);
    let head = serde_json::json!({
        "width": r.width,
        "height": r.height,
        "width_source": r.width_source,
        "header": r.header,
    });
    let head = serde_json::to_string(&head)?;
    // open the object and leave it open for the arrays
    out.write_all(json_safe(&head[..head.len() - 1]).as_bytes())?;
    out.write_all(b",\"lines\":[")?;
    copy_spool(spool.lines, &mut out)?;
    out.write_all(b"],\"commands\":")?;
    write_commands(&mut out, &r.summary.commands)?;
    out.write_all(b",\"cancelled\":")?;
    write_commands(&mut out, &r.summary.cancelled)?;
    out.write_all(b",\"inputs\":")?;
    out.write_all(json_safe(&serde_json::to_string(&r.summary.inputs)?).as_bytes())?;
    for (name, n) in [
        ("commands_dropped", r.summary.commands_dropped),
        ("long_lines_split", r.summary.long_lines_split),
        ("repeats_capped", r.summary.repeats_capped),
    ] {
        if n > 0 {
            write!(out, ",\"{name}\":{n}")?;
        }
    }
    out.write_all(b",\"alternate_screens\":[")?;
    copy_spool(spool.alt, &mut out)?;
    out.write_all(b"]}\n")?;
    out.flush()?;
    Ok(())
}

/// A JSON array of commands, written one at a time (there can be many).
fn write_commands(out: &mut impl Write, commands: &[Command]) -> Result<()> {
    out.write_all(b"[")?;
    for (i, c) in commands.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(json_safe(&serde_json::to_string(c)?).as_bytes())?;
    }
    out.write_all(b"]")?;
    Ok(())
}

fn copy_spool(w: BufWriter<File>, out: &mut impl Write) -> Result<()> {
    let mut f = w.into_inner().map_err(|e| e.into_error())?;
    f.rewind()?;
    let mut r = BufReader::with_capacity(256 << 10, f);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        // spooled JSON is valid UTF-8 cut at arbitrary points: escape on whole characters
        let valid = match std::str::from_utf8(buf) {
            Ok(s) => s.len(),
            Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
            Err(_) => buf.len().min(4),
        };
        let s = String::from_utf8_lossy(&buf[..valid]);
        out.write_all(json_safe(&s).as_bytes())?;
        r.consume(valid);
    }
    Ok(())
}
