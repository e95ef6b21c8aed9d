//! Facts: what one piece of evidence says about one session, with a stable idempotency key.
//!
//! Every decoder turns its input into facts; the correlator folds facts into session records.
//! A fact's `key` is the same however often, and from whichever delivery, the evidence
//! arrives (CloudTrail `eventID`, CloudWatch log event id, S3 bucket/key/etag), so replays
//! and duplicates change nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who made a call, as CloudTrail's `userIdentity` tells it. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// IAM user name, role session name (an e-mail for SSO), or `root`.
    pub principal: Option<String>,
    pub principal_arn: Option<String>,
    /// `IAMUser`, `AssumedRole`, `Root`, `FederatedUser`, `AWSService`, ...; `SSO` for an
    /// AssumedRole of an IAM Identity Center permission set.
    pub identity_type: Option<String>,
    pub account: Option<String>,
}

/// The request context of a CloudTrail call.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CallContext {
    /// RFC 3339, UTC.
    pub time: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub console: bool,
    pub identity: Identity,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TranscriptSource {
    S3,
    CloudwatchStream,
    CloudwatchUpload,
}

/// A count that stores written by earlier versions kept as the list itself.
fn count_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum CountOrList {
        Count(u64),
        List(Vec<serde::de::IgnoredAny>),
    }
    Ok(match CountOrList::deserialize(d)? {
        CountOrList::Count(n) => n,
        CountOrList::List(v) => v.len() as u64,
    })
}

#[derive(Clone, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "kebab-case")]
pub enum FactKind {
    /// StartSession succeeded.
    Started {
        call: CallContext,
        target: Option<String>,
        document: Option<String>,
        parameters: BTreeMap<String, Vec<String>>,
        reason: Option<String>,
    },
    /// StartSession failed: an attempt with no session id.
    Denied {
        call: CallContext,
        target: Option<String>,
        document: Option<String>,
        error_code: String,
        error_message: Option<String>,
    },
    Resumed {
        call: CallContext,
    },
    Terminated {
        call: CallContext,
    },
    /// A `ssm:DescribeSessions` (State=History or Active) row.
    Described {
        start: Option<String>,
        end: Option<String>,
        status: Option<String>,
        target: Option<String>,
        owner: Option<String>,
        document: Option<String>,
        reason: Option<String>,
    },
    /// A whole transcript: an S3 object, or a CloudWatch upload-at-end stream reassembled.
    Transcript {
        source: TranscriptSource,
        /// bucket/key or log group/stream
        location: String,
        /// when the copy was written (S3 LastModified, CloudWatch timestamp): session end
        written: Option<String>,
        bytes: u64,
        lines: u64,
        /// how many commands were run (the commands themselves are in the copy's text)
        #[serde(deserialize_with = "count_or_list")]
        commands: u64,
        /// from the transcript framing, when there is no CloudTrail record
        target: Option<String>,
        principal: Option<String>,
        /// the header's `Script started on` time: when the agent converted the log at the
        /// session's end, not the session's start (absent in stores written before)
        #[serde(default)]
        started: Option<String>,
        /// how many versions its S3 key had when read: more than one, it was overwritten
        /// after upload (absent when unknown, and for CloudWatch copies)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        versions: Option<u64>,
    },
    /// Who wrote a transcript object, as AWS recorded it: a CloudTrail data event
    /// (`PutObject`, `CopyObject`, `CompleteMultipartUpload`) or an S3 event notification.
    /// The writer of a session's transcript should be its own target node.
    Written {
        /// bucket/key
        location: String,
        time: String,
        /// the writer's ARN or principal id (`AWS:AROA...:i-0123...`), as recorded
        writer: String,
        /// the managed node the writer's role session names (`i-...`, `mi-...`), if any
        node: Option<String>,
    },
    /// One streamed CloudWatch message (about one per second of output).
    Streamed {
        time: String,
        target: Option<String>,
        principal_arn: Option<String>,
        run_as: Option<String>,
        lines: Vec<String>,
        bytes: u64,
    },
}

#[derive(Clone, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Fact {
    /// Idempotency key: equal keys are the same evidence.
    pub key: String,
    /// The join key; `None` only for denied attempts.
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub kind: FactKind,
}
