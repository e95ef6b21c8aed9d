//! The pure core of ssm-audit: Session Manager input formats, terminal rendering,
//! correlation and the index. Synchronous; no AWS, Lambda or async runtime dependencies.
//!
//! Render a transcript into the text the user saw and the commands they ran:
//!
//! ```
//! use ssm_audit_core::render::VecSink;
//! use ssm_audit_core::transcript::{render_transcript, SizeChoice};
//!
//! let log = b"Script started on 2025-09-29 16:58:03+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/i-0abc/session/orchestration/alice-0e34861185201706f/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]\n\
//! \x1b[?2004h$ echo helo\x08\x08lo\r\r\n\x1b[?2004l\rhelo\r\r\n\
//! \nScript done on 2025-09-29 16:58:09+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
//! let (rendered, sink) = render_transcript(&log[..], SizeChoice::default(), VecSink::default()).unwrap();
//! assert_eq!(sink.lines, ["$ echo helo", "helo"]);
//! assert_eq!(rendered.summary.commands[0].text, "echo helo");
//! assert_eq!(rendered.header.session_id.as_deref(), Some("alice-0e34861185201706f"));
//! ```

pub mod correlate;
pub mod custody;
pub mod escape;
pub mod facts;
pub mod formats;
pub mod hash;
pub mod ids;
pub mod index;
pub mod ingest;
pub mod keys;
pub mod provenance;
pub mod publish;
pub mod rebuild;
pub mod render;
pub mod report;
pub mod select;
pub mod store;
pub mod text;
pub mod time;
pub mod transcript;
