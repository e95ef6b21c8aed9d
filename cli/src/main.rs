//! `ssm-audit`: search and audit AWS Systems Manager Session Manager sessions.
//!
//! Exit codes (as ripgrep): 0 with results, 1 with none, 2 on error.

mod audit;
mod data;
mod dead_letters;
mod quickstart;
mod render_cmd;
mod report_cmd;
mod verify_cmd;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "ssm-audit",
    version,
    about = "Audit AWS Systems Manager Session Manager sessions: who opened what, where, when, and what they typed and saw"
)]
struct Cli {
    #[command(flatten)]
    data: audit::DataArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a demo folder of real-shaped evidence, ingest it and show what ssm-audit finds
    Quickstart(quickstart::QuickstartArgs),
    /// Read evidence files and folders into the data folder and rebuild the index
    Ingest(audit::IngestArgs),
    /// List sessions (denied attempts with --flag denied)
    Sessions(audit::SessionsArgs),
    /// Search what was typed and shown, like grep
    Search(audit::SearchArgs),
    /// One session: its record and its transcript with the commands marked
    Show(audit::ShowArgs),
    /// The tunnel ledger: port forwarding and SSH sessions
    Tunnels(audit::LedgerArgs),
    /// Sessions missing evidence, oldest first
    Gaps(audit::LedgerArgs),
    /// The audit report of a period: access, tunnels, risky commands, evidence gaps
    Report(report_cmd::ReportArgs),
    /// Render a transcript into the text the user saw and the commands they ran
    Render(render_cmd::RenderArgs),
    /// With --store: pull what is new of the published index into the local cache
    Sync(SyncArgs),
    /// What the functions could not process (the dead-letter queue); --redrive sends it back
    DeadLetters(dead_letters::DeadLettersArgs),
    /// Prove the evidence complete and unaltered: CloudTrail's digests and trail files, every
    /// kept copy against the custody ledger, the ledger itself (exit 1 when something is wrong)
    Verify(verify_cmd::VerifyArgs),
    /// One session's evidence for an auditor, with SHA256SUMS and the commands that check it
    /// without ssm-audit (VERIFY.txt)
    Bundle(verify_cmd::BundleArgs),
}

#[derive(clap::Args, Debug)]
struct SyncArgs {
    /// Print what was done as JSON
    #[arg(long)]
    json: bool,
}

fn run_sync(data: &data::DataArgs, args: &SyncArgs, out: &mut dyn Write) -> anyhow::Result<bool> {
    let d = data.open()?;
    let Some(stats) = d.sync()? else {
        writeln!(
            out,
            "{} has no published index yet: the indexer function publishes one",
            ssm_audit_core::escape::escape_text(&d.describe())
        )?;
        return Ok(false);
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&stats)?)?;
    } else {
        writeln!(
            out,
            "generation {}: {} index files, {} downloaded ({} bytes), {} removed; {} sessions",
            stats.generation,
            stats.files,
            stats.downloaded,
            stats.downloaded_bytes,
            stats.removed,
            d.records()?.len()
        )?;
    }
    Ok(true)
}

/// Ingest allocates from several threads at once (rendering, tantivy's indexers): glibc's
/// allocator made a rebuild about 15% slower.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // everything ssm-audit writes (the data folder, its index, reports, temporary files) is
    // the user's alone: evidence holds what people typed and saw
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Quickstart(a) => quickstart::run(a, &mut out),
        Command::Ingest(a) => audit::run_ingest(&cli.data, a, &mut out),
        Command::Sessions(a) => audit::run_sessions(&cli.data, a, &mut out),
        Command::Search(a) => audit::run_search(&cli.data, a, &mut out),
        Command::Show(a) => audit::run_show(&cli.data, a, &mut out),
        Command::Tunnels(a) => audit::run_tunnels(&cli.data, a, &mut out),
        Command::Gaps(a) => audit::run_gaps(&cli.data, a, &mut out),
        Command::Report(a) => report_cmd::run(&cli.data, a, &mut out),
        Command::Render(a) => render_cmd::run(a, &mut out),
        Command::Sync(a) => run_sync(&cli.data, a, &mut out),
        Command::DeadLetters(a) => dead_letters::run(a, &mut out),
        Command::Verify(a) => verify_cmd::run(&cli.data, a, &mut out),
        Command::Bundle(a) => verify_cmd::run_bundle(&cli.data, a, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(true) => ExitCode::from(0),
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(0);
            }
            // a message can carry a file name or an id from evidence: escaped, line by line
            let msg = format!("{err:#}");
            for (i, line) in msg.lines().enumerate() {
                let line = ssm_audit_core::escape::escape_text(line);
                if i == 0 {
                    eprintln!("ssm-audit: {line}");
                } else {
                    eprintln!("  {line}");
                }
            }
            ExitCode::from(2)
        }
    }
}
