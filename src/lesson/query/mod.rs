//! The query language of lessons and of the UI's display filter: a teacher writes
//! `synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw` in a lesson file, a student types
//! `tcp.flags.syn and ip.ttl < 64` in the timeline's filter.
//!
//! Read it in this order; each part uses only the ones above it:
//!
//! ```text
//!  expr        the syntax: text → Expr (and back, for messages)
//!  value       the types (Ty) and values (Value) a query has
//!  entities    what has properties (packet, record, message, connection) and their tables
//!  functions   the functions, as documented for teachers
//!  typing      the type of an Expr, or the teacher's mistake with its place   (entities, functions)
//!  scope       the capture and the lesson's clients, and the lookups on them
//!  properties  the value of one property of one packet, record, message or connection   (scope)
//!  evaluation  the value of an Expr: operators, functions, property paths   (properties)
//!  filter      the display filter: Wireshark-style field tests, compiled once, run per frame
//! ```
//!
//! A [`Query`] is an [`Expr`] parsed and type-checked when the lesson loads; a [`Context`]
//! evaluates it against the capture ([`Trace`](crate::journey::Trace)) and the lesson's record of
//! its clients ([`LessonState`](super::LessonState)).

pub mod entities;
pub mod evaluation;
pub mod expr;
pub mod filter;
pub mod functions;
pub mod properties;
pub mod scope;
pub mod typing;
pub mod value;

pub use evaluation::Context;
pub use expr::Expr;
pub use scope::Scope;
pub use typing::{check, start_of, QueryError, TypeEnv};
pub use value::{Ty, Value};

/// A query as written in a lesson file, parsed and type-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The text the teacher wrote.
    pub source: String,
    /// Its parse.
    pub expr: Expr,
    /// The type its value has.
    pub ty: Ty,
}

impl Query {
    /// Parses and type-checks `source`.
    pub fn parse(source: &str, env: &TypeEnv) -> Result<Query, QueryError> {
        let expr = expr::parse(source).map_err(|e| QueryError {
            at: e.at,
            what: e.what,
        })?;
        let ty = check(&expr, env)?;
        Ok(Query {
            source: source.to_string(),
            expr,
            ty,
        })
    }
}
