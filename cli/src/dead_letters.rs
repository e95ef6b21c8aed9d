//! `ssm-audit dead-letters`: what the functions could not process, and the way back.
//!
//! The queue holds two kinds of message. The functions' own, for input that could not be read
//! (`{"function", "input", "record", "reason", "time", "event"}`), and Lambda's, for an
//! invocation that failed three times (the event itself as the body, the error in the
//! `ErrorMessage` attribute). `--redrive` sends each event to its function again once the
//! cause is fixed; a message is deleted only after its invocation succeeded.

use std::io::Write;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use ssm_audit_core::escape::escape_text;

use crate::data::Aws;

#[derive(clap::Args, Debug)]
pub struct DeadLettersArgs {
    /// The dead-letter queue's URL (the stack's `DeadLetterQueueUrl` output)
    #[arg(long, env = "SSM_AUDIT_DLQ_URL")]
    pub queue: String,
    /// What the deployed functions' names start with: `<stack name>-` (the template names
    /// them `<stack>-ingest-s3`, `<stack>-indexer` ...)
    #[arg(long, default_value = "ssm-audit-")]
    pub function_prefix: String,
    /// Send each event back to its function; delete the message when the invocation succeeds
    #[arg(long)]
    pub redrive: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// One message of the queue, as listed.
#[derive(Debug, Serialize)]
pub struct Letter {
    /// the function it is for, without the prefix: `ingest-s3`, `reconcile` ...
    pub function: Option<String>,
    /// the input (S3 key, event name) that failed, when the message says
    pub input: Option<String>,
    pub reason: String,
    /// when it was sent to the queue
    pub time: Option<String>,
    /// whether it carries the event that redrives it
    pub redrivable: bool,
    /// after `--redrive`: `redriven` (deleted), or why not
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive: Option<String>,
    #[serde(skip)]
    event: Option<Value>,
    #[serde(skip)]
    receipt: String,
}

/// The function an event is for, told from its shape (Lambda's own dead letters say only
/// the error).
fn function_of_event(event: &Value) -> Option<&'static str> {
    if let Some(f) = event.get("ssm_audit_function").and_then(Value::as_str) {
        return ["indexer", "reconcile", "report"]
            .into_iter()
            .find(|n| *n == f);
    }
    if event.get("awslogs").is_some() {
        return Some("ingest-cloudwatch");
    }
    match event.get("source").and_then(Value::as_str) {
        Some("aws.ssm" | "aws.ecs") => return Some("ingest-cloudtrail"),
        Some("aws.s3") => return Some("ingest-s3"),
        _ => {}
    }
    if event.get("Records").is_some() || event.get("detail-type").is_some() {
        return Some("ingest-s3");
    }
    None
}

fn letter(m: &aws_sdk_sqs::types::Message) -> Letter {
    let body = m.body().unwrap_or("");
    let attr = |k: &str| {
        m.message_attributes()
            .and_then(|a| a.get(k))
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    let time = m
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<i128>().ok())
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
        .map(ssm_audit_core::time::rfc3339);
    let receipt = m.receipt_handle().unwrap_or("").to_owned();
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match v.get("function").and_then(Value::as_str) {
        // one of ours: input that could not be read
        Some(f) => {
            let event = v.get("event").filter(|e| !e.is_null()).cloned();
            Letter {
                function: Some(f.strip_prefix("ssm-audit-").unwrap_or(f).to_owned()),
                input: v.get("input").and_then(Value::as_str).map(str::to_owned),
                reason: v
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                time: v
                    .get("time")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or(time),
                redrivable: event.is_some(),
                redrive: None,
                event,
                receipt,
            }
        }
        // Lambda's: the event, the error beside it
        None => {
            let function = function_of_event(&v).map(str::to_owned);
            Letter {
                redrivable: function.is_some() && !v.is_null(),
                function,
                input: None,
                reason: attr("ErrorMessage")
                    .unwrap_or_else(|| "an invocation that failed (no error message given)".into()),
                time,
                redrive: None,
                event: (!v.is_null()).then_some(v),
                receipt,
            }
        }
    }
}

/// Every message of the queue, each received once (kept invisible for `hold` seconds).
async fn receive_all(sqs: &aws_sdk_sqs::Client, queue: &str, hold: i32) -> Result<Vec<Letter>> {
    let mut out = Vec::new();
    loop {
        let r = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(hold)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .with_context(|| format!("cannot read the queue {queue}"))?;
        if r.messages().is_empty() {
            return Ok(out);
        }
        out.extend(r.messages().iter().map(letter));
    }
}

async fn release(sqs: &aws_sdk_sqs::Client, queue: &str, l: &Letter) -> Result<()> {
    sqs.change_message_visibility()
        .queue_url(queue)
        .receipt_handle(&l.receipt)
        .visibility_timeout(0)
        .send()
        .await
        .with_context(|| format!("cannot put a message back in {queue}"))?;
    Ok(())
}

/// Invoke `function` with `event`, waiting for its answer: `Err` with why when it failed.
async fn invoke(lambda: &aws_sdk_lambda::Client, function: &str, event: &Value) -> Result<()> {
    let r = lambda
        .invoke()
        .function_name(function)
        .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
        .send()
        .await
        .map_err(|e| anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))?;
    if let Some(err) = r.function_error() {
        let payload = r
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        bail!("{err}: {payload}");
    }
    Ok(())
}

pub fn run(args: &DeadLettersArgs, out: &mut dyn Write) -> Result<bool> {
    let aws = Aws::new()?;
    let sqs = aws_sdk_sqs::Client::new(&aws.conf);
    let lambda = aws_sdk_lambda::Client::new(&aws.conf);
    let letters = aws.rt.block_on(async {
        // held while they are listed or redriven, so a message is read once
        let mut letters = receive_all(&sqs, &args.queue, 300).await?;
        for l in &mut letters {
            let redrive = match (&l.function, &l.event) {
                _ if !args.redrive => None,
                (Some(f), Some(e)) => {
                    let name = format!("{}{f}", args.function_prefix);
                    Some(match invoke(&lambda, &name, e).await {
                        Ok(()) => {
                            sqs.delete_message()
                                .queue_url(&args.queue)
                                .receipt_handle(&l.receipt)
                                .send()
                                .await
                                .with_context(|| {
                                    format!("{name} succeeded, but the message stays")
                                })?;
                            "redriven".to_owned()
                        }
                        Err(e) => format!("{name} failed again: {e:#}"),
                    })
                }
                _ => Some("not redrivable: the message holds no event to send again".into()),
            };
            if redrive.as_deref() != Some("redriven") {
                release(&sqs, &args.queue, l).await?;
            }
            l.redrive = redrive;
        }
        anyhow::Ok(letters)
    })?;
    if args.json {
        let s = serde_json::to_string_pretty(&letters)?;
        writeln!(out, "{}", ssm_audit_core::escape::json_safe(&s))?;
    } else {
        for l in &letters {
            writeln!(
                out,
                "{}  {}  {}  {}{}",
                l.time.as_deref().unwrap_or("-"),
                escape_text(l.function.as_deref().unwrap_or("?")),
                escape_text(l.input.as_deref().unwrap_or("-")),
                escape_text(&l.reason),
                l.redrive
                    .as_ref()
                    .map(|r| format!("  [{}]", escape_text(r)))
                    .unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "{} messages in {}",
            letters.len(),
            escape_text(&args.queue)
        )?;
    }
    let failed = letters
        .iter()
        .filter(|l| l.redrive.as_deref().is_some_and(|r| r != "redriven"))
        .count();
    if failed > 0 {
        bail!("{failed} messages could not be redriven (listed above): they stay in the queue");
    }
    // listing: true when the queue is empty
    Ok(args.redrive || letters.is_empty())
}
