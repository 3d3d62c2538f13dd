//! The queue port: what functions send to the transfer, migration, sales-events and
//! journal queues. Receiving is the Lambda event source's job (or the local host's).

pub mod sqs;

use async_trait::async_trait;

use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    Transfer,
    Migration,
    SalesEvents,
    Journal,
}

impl QueueName {
    pub const ALL: [QueueName; 4] = [
        QueueName::Transfer,
        QueueName::Migration,
        QueueName::SalesEvents,
        QueueName::Journal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Transfer => "transfer",
            QueueName::Migration => "migration",
            QueueName::SalesEvents => "sales-events",
            QueueName::Journal => "journal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub body: String,
    /// SQS allows 0–900 s; retries use it for back-off.
    pub delay_seconds: u32,
    /// Carried as a message attribute so the receiver can log it before parsing the body.
    pub correlation_id: String,
    /// Set for FIFO queues only (which ignore `delay_seconds`).
    pub group: Option<MessageGroup>,
}

impl OutboundMessage {
    /// `body` as JSON, for a standard queue, without delay, carrying `correlation_id`.
    pub fn json(body: &impl serde::Serialize, correlation_id: &str) -> Result<Self, AppError> {
        Ok(Self {
            body: serde_json::to_string(body)
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?,
            delay_seconds: 0,
            correlation_id: correlation_id.to_string(),
            group: None,
        })
    }
}

/// A FIFO queue delivers one message of a group at a time, in order: the number of groups a
/// sender spreads its messages over bounds how many are worked on at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageGroup {
    pub group_id: String,
    /// A second send with the same id within five minutes is dropped by the queue.
    pub deduplication_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("message rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait MessageQueue: Send + Sync {
    async fn send(&self, queue: QueueName, message: OutboundMessage) -> Result<String, QueueError>;

    /// Sends many messages, in batches where the queue supports them (SQS: 10 per request).
    async fn send_all(
        &self,
        queue: QueueName,
        messages: Vec<OutboundMessage>,
    ) -> Result<(), QueueError> {
        for message in messages {
            self.send(queue, message).await?;
        }
        Ok(())
    }

    /// Makes a received message visible again after `after` instead of the queue's
    /// visibility timeout (on a FIFO queue a handed-back message holds up its group until
    /// then). A queue without that control keeps its own timeout.
    async fn hand_back(
        &self,
        _queue: QueueName,
        _receipt_handle: &str,
        _after: std::time::Duration,
    ) -> Result<(), QueueError> {
        Ok(())
    }
}

/// Message attribute that carries the correlation id across queues.
pub const CORRELATION_ATTRIBUTE: &str = "correlation_id";
