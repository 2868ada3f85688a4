//! Evaluation: the value of a checked query on the capture. Operators are here, functions in
//! [`calls`], properties in [`super::properties`].
//!
//! Evaluation never fails: what cannot be measured becomes [`Value::Missing`] with a reason, so a
//! check can say "observed: nothing (no SYN from bob was captured)". Reading a property of a list
//! reads it from every element that has it (`packets(alice).tcp.options.mss` lists the MSS of
//! the SYN and of the SYN-ACK).

mod calls;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;

use super::super::state::LessonState;
use super::entities::{self, Entity};
use super::expr::{BinOp, Expr, UnOp};
use super::properties;
use super::scope::Scope;
use super::value::Value;
use super::Query;
use crate::journey::Trace;
use crate::tls::Keys;

/// Values of calls already made, by the call's text: a function's value depends only on the
/// capture and the clients, so `where(packets(alice), .tcp.ack == last(segments(alice,
/// server)).tcp.nxtseq)` finds the segments once, not once per packet.
type Memo = Rc<RefCell<HashMap<String, Value>>>;

/// Everything a query can look at (a [`Scope`]: the capture and the lesson's clients), and what
/// evaluating expressions adds: the element `where(...)` is looking at, the capture without its
/// keys for `without_keys(...)`, and the values of calls made so far (one memo per capture).
pub struct Context<'a> {
    scope: Scope<'a>,
    keyless: Rc<OnceCell<Trace>>,
    item: Option<&'a Value>,
    memo: Memo,
    keyless_memo: Memo,
}

impl<'a> Deref for Context<'a> {
    type Target = Scope<'a>;

    fn deref(&self) -> &Scope<'a> {
        &self.scope
    }
}

impl<'a> Context<'a> {
    /// A context over a capture and the lesson's clients.
    pub fn new(trace: &'a Trace, state: &'a LessonState) -> Self {
        Context {
            scope: Scope {
                trace,
                state,
                wire_only: false,
            },
            keyless: Rc::new(OnceCell::new()),
            item: None,
            memo: Memo::default(),
            keyless_memo: Memo::default(),
        }
    }

    /// The same, reading only what is on the wire with `wire_only` (see [`Scope::wire_only`]).
    pub fn wire_only(mut self, wire_only: bool) -> Self {
        self.scope.wire_only = wire_only;
        self
    }

    /// Evaluates a query.
    pub fn eval_query(&self, q: &Query) -> Value {
        self.eval(&q.expr)
    }

    /// The context inside `where(list, ...)`, looking at one element.
    pub(super) fn with_item<'b>(&'b self, item: &'b Value) -> Context<'b> {
        Context {
            scope: self.scope,
            keyless: self.keyless.clone(),
            item: Some(item),
            memo: self.memo.clone(),
            keyless_memo: self.keyless_memo.clone(),
        }
    }

    /// The same capture as an eavesdropper sees it: every frame, but no TLS secrets.
    fn without_keys<'b>(&'b self) -> Context<'b> {
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
            scope: Scope {
                trace,
                ..self.scope
            },
            keyless: self.keyless.clone(),
            item: self.item,
            // Another capture: its own memo.
            memo: self.keyless_memo.clone(),
            keyless_memo: self.keyless_memo.clone(),
        }
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Dec(d, p) => Value::Dec(super::expr::decimal_value(*d, *p)),
            Expr::Text(t) => Value::Text(t.clone()),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Call { name, args, .. } if mentions_item(e) => calls::call(self, name, args),
            Expr::Call { name, args, .. } => {
                let key = format!("{e:?}");
                let known = self.memo.borrow().get(&key).cloned();
                known.unwrap_or_else(|| {
                    let v = calls::call(self, name, args);
                    self.memo.borrow_mut().insert(key, v.clone());
                    v
                })
            }
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
                (UnOp::Neg, Value::Dec(x)) => Value::Dec(-x),
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
            (_, Value::Dec(_), Value::Num(_) | Value::Dec(_))
            | (_, Value::Num(_), Value::Dec(_)) => match (l.as_f64(), r.as_f64()) {
                (Some(a), Some(b)) => decimal_op(op, a, b),
                _ => Value::missing("not a number operation"),
            },
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
            (Value::Dec(_), Value::Num(_) | Value::Dec(_)) | (Value::Num(_), Value::Dec(_)) => {
                match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => same_decimal(x, y),
                    _ => false,
                }
            }
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
                match entities::longest(entity, path) {
                    Some((taken, name)) => {
                        let value = properties::read(&self.scope, other, name);
                        self.prop(&value, path.get(taken..).unwrap_or_default())
                    }
                    None => Value::missing(format!("no property {}", path.join("."))),
                }
            }
        }
    }
}

/// Whether `e` reads the element of an enclosing `where(...)` (then its value changes from one
/// element to the next, and is not kept).
fn mentions_item(e: &Expr) -> bool {
    match e {
        Expr::Item { .. } => true,
        Expr::Call { args, .. } => args.iter().any(mentions_item),
        Expr::Prop { base, .. } => mentions_item(base),
        Expr::Unary { expr, .. } => mentions_item(expr),
        Expr::Binary { left, right, .. } => mentions_item(left) || mentions_item(right),
        Expr::Num(_) | Expr::Dec(..) | Expr::Text(_) | Expr::Bool(_) => false,
    }
}

/// Arithmetic and comparison where one side has a fraction: the result has one too.
fn decimal_op(op: BinOp, a: f64, b: f64) -> Value {
    let finite = |x: f64| {
        if x.is_finite() {
            Value::Dec(x)
        } else {
            Value::missing("a number out of range")
        }
    };
    match op {
        BinOp::Add => finite(a + b),
        BinOp::Sub => finite(a - b),
        BinOp::Mul => finite(a * b),
        BinOp::Div if b == 0.0 => Value::missing("division by zero"),
        BinOp::Div => finite(a / b),
        BinOp::Rem if b == 0.0 => Value::missing("division by zero"),
        BinOp::Rem => finite(a.rem_euclid(b)),
        BinOp::Lt => Value::Bool(a < b && !same_decimal(a, b)),
        BinOp::Le => Value::Bool(a <= b || same_decimal(a, b)),
        BinOp::Gt => Value::Bool(a > b && !same_decimal(a, b)),
        BinOp::Ge => Value::Bool(a >= b || same_decimal(a, b)),
        _ => Value::missing("not a number operation"),
    }
}

/// Two numbers with fractions are the same when they differ only by binary rounding (so that
/// `ms(40100) + ms(200) == 40.3`, though the sum is 40.300000000000004): within a billionth of
/// their size.
pub(crate) fn same_decimal(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::super::typing::TypeEnv;
    use super::*;

    fn env(clients: &[&str]) -> TypeEnv {
        TypeEnv::with_clients(clients)
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
        // Milliseconds with their fraction: a decimal meets whole numbers in sums and
        // comparisons, and equals what it is shown as.
        assert_eq!(num("ms(40213)"), Value::Dec(40.213));
        assert_eq!(num("ms(40213)").describe(&trace), "40.213");
        assert_eq!(num("ms(1500) + 1"), Value::Dec(2.5));
        assert_eq!(
            num("ms(40213) > 40 and ms(40213) < 40.5"),
            Value::Bool(true)
        );
        assert_eq!(num("ms(40100) + ms(200) == 40.3"), Value::Bool(true));
        assert_eq!(num("ms(40500) >= 40.5"), Value::Bool(true));
        assert_eq!(num("-ms(1000)"), Value::Dec(-1.0));
        assert_eq!(num("sum(packets().tcp.len) + 0"), Value::Num(0));
        assert!(matches!(num("ms(1) / 0"), Value::Missing(_)));
        assert_eq!(num("40.25 * 4"), Value::Dec(161.0));
        assert!(Query::parse("0x1.5", &env(&[])).is_err());
    }

    #[test]
    fn a_call_inside_where_is_made_once_and_an_element_is_never_kept() {
        let trace = Trace::new();
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let num = |s: &str| ctx.eval_query(&Query::parse(s, &env(&[])).unwrap());
        // `lines(...)` in the condition reads no element: made once, kept.
        assert_eq!(
            num("count(where(lines('a\\nb\\nc'), contains(lines('a\\nb'), it)))"),
            Value::Num(2)
        );
        assert_eq!(ctx.memo.borrow().len(), 2, "{:?}", ctx.memo.borrow().keys());
        // A call that reads the element is made for each one.
        assert_eq!(
            num("count(where(lines('ab\\nc\\nab'), len(it) == 2))"),
            Value::Num(2)
        );
        assert!(!ctx.memo.borrow().keys().any(|k| k.contains("len")));
    }
}
