//! The display filter: which frames the timeline shows, written as in Wireshark —
//! `tcp.port == 8443 && tls`, `ip.ttl < 64`, `tcp.analysis.retransmission`, `frame contains "hi"`.
//!
//! It is the lessons' query language ([`super::expr`]) read in its field dialect: a bare dotted
//! name is a field of the frame being tested, taken from the same table the lessons read
//! ([`super::entities::PACKET_PROPS`], named after Wireshark's fields). So a teacher who writes
//! `where(packets(), .ip.ttl < 64)` in a lesson and a student who types `/ip.ttl < 64` in the
//! timeline use one language, one set of names and one reading of each field.
//!
//! Tests follow Wireshark's rules for display filters:
//! - a field on its own tests that the frame has it (`tcp.options.mss`: frames with an MSS
//!   option); a yes/no field tests its value (`tcp.flags.syn`, `tcp.analysis.retransmission`);
//! - a comparison with a field the frame lacks is false, `!=` included;
//! - a field with two values (`tcp.port`, `ip.addr`) matches if either does, and `!=` means
//!   that neither equals (Wireshark 4's `!=`);
//! - `contains` finds text in a field's text (case matters), e.g. the frame's own bytes.
//!
//! The old one-word filters stay as shortcuts and say what they stand for: `syn` is
//! `tcp.flags.syn`, `port 8443` is `tcp.port == 8443`, `retrans` is
//! `tcp.analysis.retransmission || tcp.analysis.out_of_order`; `app` keeps the application's
//! rows; any other words (or a quoted text) search the rows' text.

use super::super::state::LessonState;
use super::entities::{self, Entity, PACKET_PROPS};
use super::evaluation::Context;
use super::expr::{self, BinOp, Expr, UnOp};
use super::properties;
use super::typing::{self, QueryError, TypeEnv};
use super::value::{Ty, Value};
use crate::dissect::Packet;
use crate::journey::{FrameEntry, Trace};

/// A parsed display filter.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayFilter {
    /// What was typed, trimmed.
    pub source: String,
    /// What it tests.
    pub kind: FilterKind,
    /// The expression a shortcut stands for (`syn` → `tcp.flags.syn`), to teach the real one.
    pub expands_to: Option<String>,
}

/// What a display filter tests.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterKind {
    /// A test of each frame's fields.
    Frames(Test),
    /// The application's writes and reads (`app`), which are not frames.
    App,
    /// Rows whose text contains this, compared in lower case.
    Text(String),
}

/// A filter expression compiled for speed: field names resolved once, not per frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Both.
    And(Box<Test>, Box<Test>),
    /// Either.
    Or(Box<Test>, Box<Test>),
    /// Not.
    Not(Box<Test>),
    /// A comparison (`==`, `!=`, `<`, …, `contains`).
    Compare(BinOp, Operand, Operand),
    /// A value on its own: present (or true, for a yes/no field).
    Truth(Operand),
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A packet field by its table name (`tcp.port`).
    Field(&'static str),
    /// A longer path through another entity (`tls.records.content_type`).
    Path(Vec<String>),
    /// A constant.
    Const(Value),
    /// Anything else (arithmetic such as `tcp.len + 1`), evaluated as a lesson's query is.
    Expr(Expr),
}

/// One-word filters from before the expression language, and what each means now.
const SHORTCUTS: &[(&str, &str)] = &[
    ("link", "frame"),
    ("syn", "tcp.flags.syn"),
    ("fin", "tcp.flags.fin"),
    ("rst", "tcp.flags.rst"),
    ("ack", "tcp.flags.ack"),
    ("psh", "tcp.flags.psh"),
    (
        "retrans",
        "tcp.analysis.retransmission || tcp.analysis.out_of_order",
    ),
    (
        "retransmission",
        "tcp.analysis.retransmission || tcp.analysis.out_of_order",
    ),
];

/// Wireshark's names for fields the lessons' table calls otherwise (`tcp.flags.reset` is our
/// `tcp.flags.rst`): a filter accepts both.
const WIRESHARK_NAMES: &[(&str, &str)] = &[
    ("tcp.flags.reset", "tcp.flags.rst"),
    ("tcp.flags.push", "tcp.flags.psh"),
    ("tcp.options.mss_val", "tcp.options.mss"),
    ("tcp.options.wscale.shift", "tcp.options.wscale"),
    ("tcp.window_size_value", "tcp.window"),
    ("tls.record.content_type", "tls.records.real_type"),
    ("tls.record.opaque_type", "tls.records.content_type"),
    ("tls.record.length", "tls.records.length"),
    ("tls.record.version", "tls.records.version"),
    ("frame.cap_len", "frame.len"),
    ("ip.flags.df", "ip.df"),
    ("ip.flags.mf", "ip.mf"),
];

/// Characters that make a filter an expression rather than words to search for.
const EXPRESSION_CHARS: &[char] = &['=', '!', '<', '>', '&', '|', '(', ')', '"', '\'', '.'];

/// Words that make a filter an expression rather than words to search for.
const EXPRESSION_WORDS: &[&str] = &[
    "and", "or", "not", "contains", "eq", "ne", "lt", "le", "gt", "ge",
];

/// Whether `text` (lower case) was meant as an expression: it has an operator, or names a field.
fn looks_like_an_expression(text: &str) -> bool {
    text.contains(EXPRESSION_CHARS)
        || text
            .split_whitespace()
            .any(|w| EXPRESSION_WORDS.contains(&w) || field_names().any(|f| f == w))
}

impl DisplayFilter {
    /// Reads a filter. `Ok(None)` for an empty one (show everything); an error says where the
    /// expression is wrong and what would be right.
    pub fn parse(text: &str) -> Result<Option<DisplayFilter>, QueryError> {
        let source = text.trim().to_string();
        if source.is_empty() {
            return Ok(None);
        }
        let lower = source.to_lowercase();
        let shortcut = |kind: FilterKind, expands: Option<String>| {
            Ok(Some(DisplayFilter {
                source: source.clone(),
                kind,
                expands_to: expands,
            }))
        };
        if matches!(lower.as_str(), "app" | "application") {
            return shortcut(FilterKind::App, None);
        }
        let port = lower
            .strip_prefix("port")
            .or_else(|| lower.strip_prefix(':'))
            .unwrap_or(&lower)
            .trim();
        if let Ok(p) = port.parse::<u16>() {
            let expr = format!("tcp.port == {p}");
            return shortcut(FilterKind::Frames(compile_text(&expr)?), Some(expr));
        }
        if let Some((_, expr)) = SHORTCUTS.iter().find(|(word, _)| *word == lower) {
            return shortcut(
                FilterKind::Frames(compile_text(expr)?),
                Some((*expr).to_string()),
            );
        }
        // Field names are lower case; `TCP` means `tcp` (a quoted text keeps its case).
        let compiled = compile_text(&source).or_else(|e| {
            if source.contains(['"', '\'']) {
                Err(e)
            } else {
                compile_text(&lower).map_err(|_| e)
            }
        });
        match compiled {
            Ok(test) => shortcut(FilterKind::Frames(test), None),
            // Plain words that are no field ("alice", "hello world") search the rows' text, as
            // the timeline always did; a quoted text alone does too.
            Err(_) if !looks_like_an_expression(&lower) => shortcut(FilterKind::Text(lower), None),
            Err(e) => match expr::parse_fields(&source) {
                Ok(Expr::Text(t)) => shortcut(FilterKind::Text(t.to_lowercase()), None),
                _ => Err(e),
            },
        }
    }

    /// True if frame `n` passes (always false for a filter that is not about frames).
    pub fn matches_frame(&self, tester: &Tester<'_>, n: u32) -> bool {
        match &self.kind {
            FilterKind::Frames(test) => tester.frame(test, n),
            _ => false,
        }
    }
}

fn compile_text(source: &str) -> Result<Test, QueryError> {
    let e = expr::parse_fields(source).map_err(|e| QueryError {
        at: e.at,
        what: e.what,
    })?;
    compile(&e)
}

fn err(at: usize, what: impl Into<String>) -> QueryError {
    QueryError {
        at,
        what: what.into(),
    }
}

fn env() -> TypeEnv {
    TypeEnv {
        clients: Vec::new(),
        item: Some(Ty::Packet),
    }
}

/// Turns a parsed expression into a [`Test`], checking every field name and every comparison.
fn compile(e: &Expr) -> Result<Test, QueryError> {
    match e {
        Expr::Binary {
            op: BinOp::And,
            left,
            right,
            ..
        } => Ok(Test::And(Box::new(compile(left)?), Box::new(compile(right)?))),
        Expr::Binary {
            op: BinOp::Or,
            left,
            right,
            ..
        } => Ok(Test::Or(Box::new(compile(left)?), Box::new(compile(right)?))),
        Expr::Unary {
            op: UnOp::Not,
            expr,
        } => Ok(Test::Not(Box::new(compile(expr)?))),
        Expr::Binary {
            op: op @ (BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::Contains),
            left,
            right,
            at,
        } => {
            let (l, lt) = operand(left)?;
            let (r, rt) = operand(right)?;
            comparable(*op, &lt, &rt).map_err(|what| err(*at, what))?;
            Ok(Test::Compare(*op, l, r))
        }
        Expr::Text(t) => Err(err(
            0,
            format!("\"{t}\" on its own is not a test: compare a field with it, e.g. frame contains \"{t}\""),
        )),
        other => {
            let (o, ty) = operand(other)?;
            if matches!(ty, Ty::Num) && matches!(o, Operand::Const(_) | Operand::Expr(_)) {
                return Err(err(
                    typing::start_of(other),
                    "a number on its own is not a test: compare it with a field, e.g. tcp.port == 8443",
                ));
            }
            Ok(Test::Truth(o))
        }
    }
}

/// One side of a comparison, with its type.
fn operand(e: &Expr) -> Result<(Operand, Ty), QueryError> {
    match e {
        Expr::Num(n) => Ok((Operand::Const(Value::Num(*n)), Ty::Num)),
        Expr::Dec(d, p) => Ok((
            Operand::Const(Value::Dec(super::expr::decimal_value(*d, *p))),
            Ty::Num,
        )),
        Expr::Text(t) => Ok((Operand::Const(Value::Text(t.clone())), Ty::Text)),
        Expr::Bool(b) => Ok((Operand::Const(Value::Bool(*b)), Ty::Bool)),
        Expr::Item { path, at } if path.is_empty() => Err(err(
            *at,
            "`it` belongs to lessons' where(...): name a field instead, e.g. tcp.len",
        )),
        Expr::Item { path, at } => {
            let joined = path.join(".");
            let renamed = WIRESHARK_NAMES
                .iter()
                .find(|(theirs, _)| *theirs == joined)
                .map(|(_, ours)| ours.split('.').map(str::to_string).collect::<Vec<_>>());
            let path = renamed.as_ref().unwrap_or(path);
            let ty = entities::check_path(&Ty::Packet, path).map_err(|what| {
                err(
                    *at,
                    what.replacen("a packet has no property", "no field is called", 1),
                )
            })?;
            let joined = path.join(".");
            let field = PACKET_PROPS.iter().find(|d| d.name == joined);
            Ok(match field {
                Some(d) => (Operand::Field(d.name), ty),
                None => (Operand::Path(path.clone()), ty),
            })
        }
        Expr::Call { name, at, .. } => Err(err(
            *at,
            format!(
                "`{name}(…)` is a lessons' function; a filter reads the fields of each frame, e.g. tcp.port == 8443 && tls"
            ),
        )),
        other => {
            let ty = typing::check(other, &env())?;
            Ok((Operand::Expr(other.clone()), ty))
        }
    }
}

/// The type of one value of a field (a list's element).
fn element(ty: &Ty) -> &Ty {
    match ty {
        Ty::List(inner) => element(inner),
        other => other,
    }
}

/// Whether `op` can compare values of these types; if not, why.
fn comparable(op: BinOp, l: &Ty, r: &Ty) -> Result<(), String> {
    let (a, b) = (element(l), element(r));
    let ok = match op {
        BinOp::Contains => a.fits(&Ty::Text) && b.fits(&Ty::Text),
        _ => matches!(
            (a, b),
            (Ty::Any, _)
                | (_, Ty::Any)
                | (Ty::Num, Ty::Num | Ty::Text | Ty::Bool)
                | (Ty::Text, Ty::Text | Ty::Num)
                | (Ty::Bool, Ty::Bool | Ty::Num)
        ),
    };
    if ok {
        Ok(())
    } else if op == BinOp::Contains {
        Err(format!(
            "`contains` looks for a text in a text, not {} in {}: e.g. frame contains \"hi\"",
            b.name(),
            a.name()
        ))
    } else {
        Err(format!(
            "`{}` cannot compare {} with {}",
            op.symbol(),
            a.name(),
            b.name()
        ))
    }
}

/// Tests frames of one capture: holds what every test needs (the capture, whether the
/// eavesdropper's view is on) and dissects each frame once for all the fields read.
pub struct Tester<'a> {
    ctx: Context<'a>,
}

impl<'a> Tester<'a> {
    /// A tester over `trace`; with `wire_only`, fields that need the session keys (an encrypted
    /// record's inner type, messages, plaintext) are missing, as they are to an eavesdropper.
    pub fn new(trace: &'a Trace, state: &'a LessonState, wire_only: bool) -> Tester<'a> {
        Tester {
            ctx: Context::new(trace, state).wire_only(wire_only),
        }
    }

    /// True if frame `n` passes `test`.
    pub fn frame(&self, test: &Test, n: u32) -> bool {
        let Some(entry) = self.ctx.trace.frame(n) else {
            return false;
        };
        // Without the TCP checksum's verdict (the one field that needs it dissects again).
        let frame = Frame {
            entry,
            packet: entry.headers(),
            value: Value::Packet(n),
        };
        self.test(test, &frame)
    }

    fn test(&self, test: &Test, f: &Frame<'_>) -> bool {
        match test {
            Test::And(a, b) => self.test(a, f) && self.test(b, f),
            Test::Or(a, b) => self.test(a, f) || self.test(b, f),
            Test::Not(a) => !self.test(a, f),
            Test::Truth(o) => truth(&self.value(o, f)),
            // The frame's own bytes searched as bytes, without making text of every frame.
            Test::Compare(
                BinOp::Contains,
                Operand::Field("frame"),
                Operand::Const(Value::Text(t)),
            ) => memchr::memmem::find(&f.entry.frame.data, t.as_bytes()).is_some(),
            Test::Compare(op, l, r) => {
                let (l, r) = (self.value(l, f), self.value(r, f));
                compare(*op, &l, &r)
            }
        }
    }

    fn value(&self, o: &Operand, f: &Frame<'_>) -> Value {
        match o {
            Operand::Field(name @ "tcp.checksum") => {
                properties::packet(&self.ctx, f.entry, &f.entry.packet(), name)
            }
            Operand::Field(name) => properties::packet(&self.ctx, f.entry, &f.packet, name),
            Operand::Path(path) => self.ctx.prop(&f.value, path),
            Operand::Const(v) => v.clone(),
            Operand::Expr(e) => self.ctx.with_item(&f.value).eval(e),
        }
    }
}

/// One frame under test.
struct Frame<'a> {
    entry: &'a FrameEntry,
    packet: Packet,
    value: Value,
}

/// A value on its own as a test: a yes/no is itself, a list any of its values, anything else
/// true if present.
fn truth(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Missing(_) => false,
        Value::List(items) => items.iter().any(truth),
        _ => true,
    }
}

/// The values of a field: one, or each of a list's.
fn values(v: &Value) -> Vec<&Value> {
    match v {
        Value::List(items) => items.iter().flat_map(values).collect(),
        Value::Missing(_) => Vec::new(),
        other => vec![other],
    }
}

/// A value as a number, where it is one: `true` is 1, and a text that spells a number (the
/// EtherType "0x0800") is that number.
fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Num(n) => Some(*n),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Text(t) => match t.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16).ok(),
            None => t.parse().ok(),
        },
        _ => None,
    }
}

fn compare(op: BinOp, l: &Value, r: &Value) -> bool {
    let (ls, rs) = (values(l), values(r));
    if ls.is_empty() || rs.is_empty() {
        // A comparison with a field the frame lacks is false, `!=` included (as Wireshark).
        return false;
    }
    let any = |op: BinOp| ls.iter().any(|a| rs.iter().any(|b| one(op, a, b)));
    match op {
        BinOp::Ne => !any(BinOp::Eq),
        other => any(other),
    }
}

fn one(op: BinOp, a: &Value, b: &Value) -> bool {
    if op == BinOp::Contains {
        return match (a, b) {
            (Value::Text(hay), Value::Text(needle)) => hay.contains(needle.as_str()),
            _ => false,
        };
    }
    let ordering = match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Dec(_), _) | (_, Value::Dec(_)) => {
            match (
                a.as_f64().or(number(a).map(|n| n as f64)),
                b.as_f64().or(number(b).map(|n| n as f64)),
            ) {
                (Some(x), Some(y)) if super::evaluation::same_decimal(x, y) => {
                    Some(std::cmp::Ordering::Equal)
                }
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => None,
            }
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => None,
        },
    };
    let Some(o) = ordering else { return false };
    match op {
        BinOp::Eq => o.is_eq(),
        BinOp::Ne => o.is_ne(),
        BinOp::Lt => o.is_lt(),
        BinOp::Le => o.is_le(),
        BinOp::Gt => o.is_gt(),
        BinOp::Ge => o.is_ge(),
        _ => false,
    }
}

/// The packet fields a filter can read (Wireshark's spellings of some too), for help and errors.
pub fn field_names() -> impl Iterator<Item = &'static str> {
    Entity::Packet
        .props()
        .iter()
        .map(|d| d.name)
        .chain(WIRESHARK_NAMES.iter().map(|(theirs, _)| *theirs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::Trace;

    fn kind(text: &str) -> FilterKind {
        DisplayFilter::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .unwrap_or_else(|| panic!("{text}: empty"))
            .kind
    }

    fn error(text: &str) -> String {
        DisplayFilter::parse(text)
            .err()
            .unwrap_or_else(|| panic!("{text} should not parse"))
            .to_string()
    }

    #[test]
    fn wireshark_spellings_parse() {
        for text in [
            "tcp.port == 8443 && tls",
            "tcp.port eq 8443 and tls",
            "ip.ttl < 64",
            "tcp.analysis.retransmission",
            "frame contains \"hi\"",
            "!tcp.flags.syn || tcp.len > 0",
            "not (tcp.srcport == 8443)",
            "ip.addr == 10.0.0.1",
            "ip.src == \"127.0.0.1\" && tcp.len >= 1",
            "tcp.options.mss",
            "eth.type == 0x0800",
            "tls.records.content_type == 23",
            "tcp.len + 1 > 10",
            "ipv6 || arp",
        ] {
            assert!(matches!(kind(text), FilterKind::Frames(_)), "{text}");
        }
    }

    #[test]
    fn shortcuts_say_what_they_stand_for() {
        let f = DisplayFilter::parse("syn").unwrap().unwrap();
        assert_eq!(f.expands_to.as_deref(), Some("tcp.flags.syn"));
        let f = DisplayFilter::parse("port 8443").unwrap().unwrap();
        assert_eq!(f.expands_to.as_deref(), Some("tcp.port == 8443"));
        assert_eq!(
            DisplayFilter::parse(":80").unwrap().unwrap().expands_to,
            Some("tcp.port == 80".into())
        );
        assert_eq!(kind("app"), FilterKind::App);
        assert_eq!(kind("Alice"), FilterKind::Text("alice".into()));
        assert_eq!(kind("hello world"), FilterKind::Text("hello world".into()));
        assert_eq!(kind("\"a.b\""), FilterKind::Text("a.b".into()));
        assert_eq!(DisplayFilter::parse("  "), Ok(None));
    }

    #[test]
    fn mistakes_are_named() {
        let e = error("tcp.prot == 1");
        assert!(
            e.contains("no field is called `tcp.prot`") && e.contains("tcp.port"),
            "{e}"
        );
        assert!(error("tcp.port = 1").contains("=="));
        assert!(error("syn(alice)").contains("lessons' function"));
        assert!(error("frame contains 3").contains("contains"));
        assert!(error("tcp.port == ").contains("expected"));
        assert!(error("tcp.flags.syn && 5").contains("number on its own"));
    }

    #[test]
    fn no_frames_no_matches_and_no_panic() {
        let trace = Trace::new();
        let state = LessonState::default();
        let t = Tester::new(&trace, &state, true);
        let f = DisplayFilter::parse("tcp").unwrap().unwrap();
        assert!(!f.matches_frame(&t, 1));
        assert!(!f.matches_frame(&t, 0));
    }

    #[test]
    fn comparisons_follow_wireshark() {
        let n = Value::Num;
        let list = Value::List(vec![n(50000), n(8443)]);
        assert!(compare(BinOp::Eq, &list, &n(8443)));
        assert!(!compare(BinOp::Ne, &list, &n(8443)));
        assert!(compare(BinOp::Ne, &list, &n(80)));
        assert!(!compare(BinOp::Eq, &Value::missing("x"), &n(1)));
        assert!(!compare(BinOp::Ne, &Value::missing("x"), &n(1)));
        assert!(compare(BinOp::Eq, &Value::Bool(true), &n(1)));
        assert!(compare(BinOp::Eq, &Value::Text("0x0800".into()), &n(2048)));
        assert!(compare(
            BinOp::Contains,
            &Value::Text("say hi".into()),
            &Value::Text("hi".into())
        ));
        assert!(!compare(
            BinOp::Contains,
            &Value::Text("say HI".into()),
            &Value::Text("hi".into())
        ));
        assert!(truth(&n(0)), "a field that is there, even 0, is present");
        assert!(!truth(&Value::List(Vec::new())));
    }
}
