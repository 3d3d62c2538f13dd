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

/// A message received from a dead-letter queue: hidden from other readers until it is
/// released, deleted, or its hold runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The id it had on its source queue (SQS keeps it when it dead-letters a message).
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// `ApproximateReceiveCount`: deliveries from the source queue and the dead-letter
    /// queue together (listing it counts too).
    pub receive_count: u32,
    /// When it was first sent (`SentTimestamp`), RFC 3339.
    pub sent_at: Option<String>,
    pub correlation_id: Option<String>,
    /// FIFO queues only.
    pub group_id: Option<String>,
}

/// The dead-letter queues of the four source queues: what `/v1/dead-letters` and the
/// reconcile schedule read, hand back and remove.
#[async_trait]
pub trait DeadLetterQueues: Send + Sync {
    /// The source queues whose dead-letter queue is configured.
    fn configured(&self) -> Vec<QueueName>;

    /// Messages held (visible and in flight), as SQS approximates it.
    async fn depth(&self, queue: QueueName) -> Result<u64, QueueError>;

    /// Up to 10 messages, hidden for `hold` (a FIFO queue gives no more of a group while
    /// some of it is hidden).
    async fn receive(
        &self,
        queue: QueueName,
        hold: std::time::Duration,
    ) -> Result<Vec<DeadLetter>, QueueError>;

    /// Makes received messages visible again at once.
    async fn release(&self, queue: QueueName, receipt_handles: &[String])
        -> Result<(), QueueError>;

    /// Removes a received message for good.
    async fn delete(&self, queue: QueueName, receipt_handle: &str) -> Result<(), QueueError>;
}

/// No dead-letter queues (a function that was not given their URLs).
pub struct NoDeadLetters;

#[async_trait]
impl DeadLetterQueues for NoDeadLetters {
    fn configured(&self) -> Vec<QueueName> {
        Vec::new()
    }
    async fn depth(&self, _: QueueName) -> Result<u64, QueueError> {
        Ok(0)
    }
    async fn receive(
        &self,
        _: QueueName,
        _: std::time::Duration,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        Ok(Vec::new())
    }
    async fn release(&self, _: QueueName, _: &[String]) -> Result<(), QueueError> {
        Ok(())
    }
    async fn delete(&self, _: QueueName, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
}
