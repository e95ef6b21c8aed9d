//! `ssm-audit`: search and audit AWS Systems Manager Session Manager sessions.
//!
//! Exit codes (as ripgrep): 0 with results, 1 with none, 2 on error.

mod render_cmd;

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render a transcript into the text the user saw and the commands they ran
    Render(render_cmd::RenderArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Render(args) => render_cmd::run(args, &mut out),
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
            eprintln!("ssm-audit: {err:#}");
            ExitCode::from(2)
        }
    }
}
