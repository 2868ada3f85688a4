//! The journey: ties every application write and read to the TLS records that carried its bytes,
//! the TCP segments that carried those records, and the frames around them. [`Trace`] is the one
//! model that reports, the UI, lessons and the capture writer read.

pub mod hops;
pub mod ledger;
mod sizes;
pub mod timing;
mod trace;

pub use sizes::Stack;

pub use trace::{FrameEntry, Journey, LayerBytes, RecordEntry, StreamKind, Trace};
