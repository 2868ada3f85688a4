//! What a lesson's actions did, kept so that queries can name clients after they have left:
//! which connection each client had, who was refused and why, and the lines each one received.

use std::collections::BTreeMap;

use crate::chat::ConnId;

/// A client whose connection attempt failed (e.g. its CA did not sign the server's certificate).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    /// The error the client reported, in words.
    pub error: String,
    /// The TCP connection it opened before giving up, when it reached the capture.
    pub stream: Option<usize>,
}

/// The lesson's record of its clients.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LessonState {
    /// Every client that connected, with its connection (kept after it closes).
    pub clients: BTreeMap<String, ConnId>,
    /// The clients connected right now, in the order they joined.
    pub connected: Vec<String>,
    /// Clients whose connection attempt failed.
    pub refused: BTreeMap<String, Refusal>,
    /// The lines each client received from the server (welcome and notices included).
    pub received: BTreeMap<String, Vec<String>>,
}

impl LessonState {
    /// Every client name the lesson has used so far, connected or refused.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.clients.keys().cloned().collect();
        names.extend(self.refused.keys().cloned());
        names
    }
}
