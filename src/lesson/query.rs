//! Queries: an [`Expr`] checked for types when the lesson loads, then evaluated against the
//! capture ([`Trace`]) and the lesson's record of its clients ([`LessonState`]).
//!
//! Evaluation never fails: what cannot be measured becomes [`Value::Missing`] with a reason, so a
//! check can say "observed: nothing (no SYN from bob was captured)". Reading a property of a list
//! reads it from every element that has it (`packets(alice).tcp.options.mss` lists the MSS of
//! the SYN and of the SYN-ACK).

use std::cell::OnceCell;
use std::rc::Rc;

use super::calls;
use super::expr::{self, BinOp, Expr, UnOp};
use super::functions;
use super::props::{self, Entity};
use super::state::LessonState;
use super::value::{Ty, Value};
use crate::journey::Trace;
use crate::tls::Keys;

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

/// What the type checker knows at a point of the lesson.
#[derive(Debug, Clone, Default)]
pub struct TypeEnv {
    /// Clients connected (or refused) by the actions up to and including this step.
    pub clients: Vec<String>,
    /// The element type inside `where(list, ...)`.
    pub item: Option<Ty>,
}

/// Why a query is not acceptable: where in the text, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Character offset in the query.
    pub at: usize,
    /// What is wrong, in a teacher's words.
    pub what: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.what)
    }
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

fn err(at: usize, what: impl Into<String>) -> QueryError {
    QueryError {
        at,
        what: what.into(),
    }
}

/// Where an expression starts, for errors about it as a whole.
pub fn start_of(e: &Expr) -> usize {
    match e {
        Expr::Call { at, .. } | Expr::Item { at, .. } => *at,
        Expr::Prop { base, .. } => start_of(base),
        Expr::Binary { left, .. } => start_of(left),
        Expr::Unary { expr, .. } => start_of(expr).saturating_sub(1),
        _ => 0,
    }
}

/// The type of `e`, or why it has none.
pub fn check(e: &Expr, env: &TypeEnv) -> Result<Ty, QueryError> {
    match e {
        Expr::Num(_) => Ok(Ty::Num),
        Expr::Text(_) => Ok(Ty::Text),
        Expr::Bool(_) => Ok(Ty::Bool),
        Expr::Call { name, args, at } => functions::check_call(name, args, *at, env),
        Expr::Prop { base, path, at } => {
            let base_ty = check(base, env)?;
            props::check_path(&base_ty, path).map_err(|what| err(*at, what))
        }
        Expr::Item { path, at } => match &env.item {
            Some(ty) => props::check_path(ty, path).map_err(|what| err(*at, what)),
            None => Err(err(
                *at,
                "`it` and properties starting with `.` only make sense inside where(list, ...), where they read each element",
            )),
        },
        Expr::Unary { op, expr } => {
            let ty = check(expr, env)?;
            let (want, result) = match op {
                UnOp::Not => (Ty::Bool, Ty::Bool),
                UnOp::Neg => (Ty::Num, Ty::Num),
            };
            if !ty.fits(&want) {
                return Err(err(
                    start_of(expr),
                    format!("this is {}, but {} is needed here", ty.name(), want.name()),
                ));
            }
            Ok(result)
        }
        Expr::Binary {
            op,
            left,
            right,
            at,
        } => {
            let l = check(left, env)?;
            let r = check(right, env)?;
            let need = |ty: &Ty, want: Ty, side: &Expr| {
                if ty.fits(&want) {
                    Ok(())
                } else {
                    Err(err(
                        start_of(side),
                        format!(
                            "`{}` needs {} on both sides, but this is {}",
                            op.symbol(),
                            want.name(),
                            ty.name()
                        ),
                    ))
                }
            };
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                    need(&l, Ty::Num, left)?;
                    need(&r, Ty::Num, right)?;
                    Ok(Ty::Num)
                }
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    need(&l, Ty::Num, left)?;
                    need(&r, Ty::Num, right)?;
                    Ok(Ty::Bool)
                }
                BinOp::And | BinOp::Or => {
                    need(&l, Ty::Bool, left)?;
                    need(&r, Ty::Bool, right)?;
                    Ok(Ty::Bool)
                }
                BinOp::Contains => match (&l, &r) {
                    (Ty::List(item), r) if item.fits(r) || matches!((&**item, r), (Ty::Num, Ty::Text) | (Ty::Text, Ty::Num)) => Ok(Ty::Bool),
                    (l, r) if l.fits(&Ty::Text) && r.fits(&Ty::Text) => Ok(Ty::Bool),
                    _ => Err(err(
                        *at,
                        format!(
                            "`contains` looks for a text in a text (or a value in a list), not {} in {}",
                            r.name(),
                            l.name()
                        ),
                    )),
                },
                BinOp::Eq | BinOp::Ne => {
                    if l.fits(&r) || matches!((&l, &r), (Ty::Num, Ty::Text) | (Ty::Text, Ty::Num)) {
                        Ok(Ty::Bool)
                    } else {
                        Err(err(
                            *at,
                            format!("`{}` compares {} with {}", op.symbol(), l.name(), r.name()),
                        ))
                    }
                }
            }
        }
    }
}

/// Everything a query can look at: the capture and the lesson's clients.
pub struct Context<'a> {
    /// The capture so far.
    pub trace: &'a Trace,
    /// The clients.
    pub state: &'a LessonState,
    keyless: Rc<OnceCell<Trace>>,
    item: Option<&'a Value>,
    /// Only what is on the wire: an encrypted record's inner type, messages and plaintext read
    /// as missing even where the keys opened it (the eavesdropper's view of the timeline).
    pub wire_only: bool,
}

impl<'a> Context<'a> {
    /// A context over a capture and the lesson's clients.
    pub fn new(trace: &'a Trace, state: &'a LessonState) -> Self {
        Context {
            trace,
            state,
            keyless: Rc::new(OnceCell::new()),
            item: None,
            wire_only: false,
        }
    }

    /// Evaluates a query.
    pub fn eval_query(&self, q: &Query) -> Value {
        self.eval(&q.expr)
    }

    pub(super) fn with_item<'b>(&'b self, item: &'b Value) -> Context<'b> {
        Context {
            trace: self.trace,
            state: self.state,
            keyless: self.keyless.clone(),
            item: Some(item),
            wire_only: self.wire_only,
        }
    }

    /// The same capture as an eavesdropper sees it: every frame, but no TLS secrets.
    pub(super) fn without_keys<'b>(&'b self) -> Context<'b> {
        let trace = self.keyless.get_or_init(|| {
            let frames = self
                .trace
                .frames()
                .iter()
                .map(|f| f.frame.clone())
                .collect();
            Trace::from_frames(frames, Keys::new())
        });
        Context {
            trace,
            state: self.state,
            keyless: self.keyless.clone(),
            item: self.item,
            wire_only: self.wire_only,
        }
    }

    /// The TCP connection (stream number) of client `name`.
    pub fn stream_of(&self, name: &str) -> Result<usize, String> {
        if let Some(conn) = self.state.clients.get(name) {
            return self
                .trace
                .tcp()
                .find(conn.client, conn.server)
                .map(|c| c.index)
                .ok_or_else(|| {
                    format!(
                        "{name}'s connection ({} → {}) was not captured",
                        conn.client, conn.server
                    )
                });
        }
        if let Some(refusal) = self.state.refused.get(name) {
            return refusal
                .stream
                .ok_or_else(|| format!("{name}'s refused connection was not captured"));
        }
        let known = self.state.names();
        Err(if known.is_empty() {
            format!("no client named {name} has connected yet")
        } else {
            format!(
                "no client named {name} has connected (clients: {})",
                known.join(", ")
            )
        })
    }

    /// The client that owns connection `stream`, if the lesson made it.
    pub fn client_of_stream(&self, stream: usize) -> Option<String> {
        let conn = self.trace.tcp().connection(stream)?;
        self.state
            .clients
            .iter()
            .find(|(_, c)| c.client == conn.client && c.server == conn.server)
            .map(|(n, _)| n.clone())
            .or_else(|| {
                self.state
                    .refused
                    .iter()
                    .find(|(_, r)| r.stream == Some(stream))
                    .map(|(n, _)| n.clone())
            })
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Text(t) => Value::Text(t.clone()),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Call { name, args, .. } => calls::call(self, name, args),
            Expr::Prop { base, path, .. } => {
                let base = self.eval(base);
                self.prop(&base, path)
            }
            Expr::Item { path, .. } => match self.item {
                Some(item) => self.prop(item, path),
                None => Value::missing("a `.` property outside where(...)"),
            },
            Expr::Unary { op, expr } => match (op, self.eval(expr)) {
                (_, m @ Value::Missing(_)) => m,
                (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                (UnOp::Neg, Value::Num(n)) => Value::Num(n.saturating_neg()),
                (_, other) => Value::missing(format!("cannot apply {op:?} to {other:?}")),
            },
            Expr::Binary {
                op, left, right, ..
            } => self.binary(*op, left, right),
        }
    }

    fn binary(&self, op: BinOp, left: &Expr, right: &Expr) -> Value {
        let l = self.eval(left);
        // `and`/`or` stop early, as a reader expects.
        match (op, &l) {
            (BinOp::And, Value::Bool(false)) => return Value::Bool(false),
            (BinOp::Or, Value::Bool(true)) => return Value::Bool(true),
            _ => {}
        }
        let r = self.eval(right);
        if let Value::Missing(_) = l {
            return l;
        }
        if let Value::Missing(_) = r {
            return r;
        }
        match (op, &l, &r) {
            (BinOp::And | BinOp::Or, Value::Bool(_), Value::Bool(b)) => Value::Bool(*b),
            (BinOp::Contains, Value::Text(hay), Value::Text(needle)) => {
                Value::Bool(hay.contains(needle.as_str()))
            }
            (BinOp::Contains, Value::List(items), _) => {
                Value::Bool(items.iter().any(|item| self.same(item, &r)))
            }
            (BinOp::Eq, _, _) => Value::Bool(self.same(&l, &r)),
            (BinOp::Ne, _, _) => Value::Bool(!self.same(&l, &r)),
            (_, Value::Num(a), Value::Num(b)) => {
                let (a, b) = (*a, *b);
                match op {
                    BinOp::Add => Value::Num(a.saturating_add(b)),
                    BinOp::Sub => Value::Num(a.saturating_sub(b)),
                    BinOp::Mul => Value::Num(a.saturating_mul(b)),
                    BinOp::Div => a
                        .checked_div(b)
                        .map_or_else(|| Value::missing("division by zero"), Value::Num),
                    // Never negative: `(b - a) % 65536` counts forward across a wrap to 0.
                    BinOp::Rem => a
                        .checked_rem_euclid(b)
                        .map_or_else(|| Value::missing("division by zero"), Value::Num),
                    BinOp::Lt => Value::Bool(a < b),
                    BinOp::Le => Value::Bool(a <= b),
                    BinOp::Gt => Value::Bool(a > b),
                    BinOp::Ge => Value::Bool(a >= b),
                    _ => Value::missing("not a number operation"),
                }
            }
            _ => Value::missing(format!(
                "`{}` cannot combine {} and {}",
                op.symbol(),
                l.describe(self.trace),
                r.describe(self.trace)
            )),
        }
    }

    /// Equality as a reader means it: numbers by value, text exactly, and a number equal to a
    /// text that spells it.
    pub fn same(&self, a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Num(x), Value::Num(y)) => x == y,
            (Value::Text(x), Value::Text(y)) => x == y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| self.same(p, q))
            }
            _ => a.plain(self.trace) == b.plain(self.trace),
        }
    }

    /// Reads a dotted property path from a value (from every element, for a list).
    pub fn prop(&self, v: &Value, path: &[String]) -> Value {
        if path.is_empty() {
            return v.clone();
        }
        match v {
            Value::Missing(_) => v.clone(),
            Value::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.prop(item, path) {
                        Value::Missing(_) => {}
                        Value::List(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                Value::List(out)
            }
            other => {
                let Some(entity) = Entity::of(other) else {
                    return Value::missing(format!(
                        "{} has no property {}",
                        other.describe(self.trace),
                        path.join(".")
                    ));
                };
                match props::longest(entity, path) {
                    Some((taken, name)) => {
                        let value = props::read(self, other, name);
                        self.prop(&value, path.get(taken..).unwrap_or_default())
                    }
                    None => Value::missing(format!("no property {}", path.join("."))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(clients: &[&str]) -> TypeEnv {
        TypeEnv {
            clients: clients.iter().map(|s| s.to_string()).collect(),
            item: None,
        }
    }

    #[test]
    fn types_of_queries() {
        let e = env(&["alice"]);
        let ty = |s: &str| Query::parse(s, &e).map(|q| q.ty);
        assert_eq!(ty("syn(alice).tcp.options.mss"), Ok(Ty::Num));
        assert_eq!(ty("syn(alice)"), Ok(Ty::Packet));
        assert_eq!(
            ty("packets(alice).tcp.len"),
            Ok(Ty::List(Box::new(Ty::Num)))
        );
        assert_eq!(
            ty("count(where(packets(alice), .tcp.len > 0))"),
            Ok(Ty::Num)
        );
        assert_eq!(
            ty("message(alice, 1).frames.tls.records"),
            Ok(Ty::List(Box::new(Ty::Record)))
        );
        assert_eq!(
            ty("synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw"),
            Ok(Ty::Num)
        );
        assert_eq!(ty("conn(alice).tls.version == 'TLS 1.3'"), Ok(Ty::Bool));
    }

    #[test]
    fn type_errors_name_the_problem() {
        let e = env(&["alice"]);
        let what = |s: &str| Query::parse(s, &e).unwrap_err().what;
        assert!(
            what("syn(alice).tcp.sequence").contains("tcp.sequence"),
            "{}",
            what("syn(alice).tcp.sequence")
        );
        assert!(what("syn(bob)").contains("bob"));
        assert!(what("synn(alice)").contains("synn"));
        assert!(what("syn(alice) + 1").contains("a number"));
        assert!(what(".tcp.len").contains("where"));
        assert!(what("count(1)").contains("list"));
        let at = Query::parse("syn(alice).tcp.sequence", &e).unwrap_err().at;
        assert_eq!(at, 11);
    }

    #[test]
    fn evaluation_on_an_empty_capture_says_why() {
        let trace = Trace::new();
        let mut state = LessonState::default();
        state.clients.insert(
            "alice".into(),
            crate::chat::ConnId {
                client: "127.0.0.1:5000".parse().unwrap(),
                server: "127.0.0.1:8443".parse().unwrap(),
            },
        );
        let ctx = Context::new(&trace, &state);
        let q = Query::parse("syn(alice).tcp.options.mss", &env(&["alice"])).unwrap();
        match ctx.eval_query(&q) {
            Value::Missing(why) => assert!(why.contains("not captured"), "{why}"),
            other => panic!("{other:?}"),
        }
        let q = Query::parse("1 + 2 * 3 == 7 and count(packets()) == 0", &env(&[])).unwrap();
        assert_eq!(ctx.eval_query(&q), Value::Bool(true));
        let q = Query::parse(
            "count(where(lines('CLIENT a\\nSERVER b\\nCLIENT c'), contains(it, 'CLIENT')))",
            &env(&[]),
        )
        .unwrap();
        assert_eq!(ctx.eval_query(&q), Value::Num(2));
        let q = Query::parse("10 / 0", &env(&[])).unwrap();
        assert!(matches!(ctx.eval_query(&q), Value::Missing(_)));
        // The remainder is never negative, so a difference counts forward across a wrap (IPv4
        // identifications: from 65535 to 2 is 3 steps), and binds as tightly as * and /.
        let num = |s: &str| ctx.eval_query(&Query::parse(s, &env(&[])).unwrap());
        assert_eq!(num("(2 - 65535) % 65536"), Value::Num(3));
        assert_eq!(num("(65535 + 1) % 65536"), Value::Num(0));
        assert_eq!(num("1 + 7 % 4 * 2"), Value::Num(7));
        assert!(matches!(num("7 % 0"), Value::Missing(_)));
    }
}
