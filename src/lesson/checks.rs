//! Expectations, questions and focus: what a step checks in the capture, asks the student, and
//! points at. Each expectation yields pass or fail with the observed value in words; each
//! question's answer is computed from the student's own capture.

use std::ops::Range;

use crate::dissect::Layer;
use crate::flow::Direction;

use super::expr::{render, BinOp, Expr};
use super::query::{Context, Query};
use super::value::Value;

/// A constant a teacher wrote in the lesson file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A whole number.
    Num(i64),
    /// A text.
    Text(String),
    /// true or false.
    Bool(bool),
}

impl Literal {
    fn show(&self) -> String {
        match self {
            Literal::Num(n) => n.to_string(),
            Literal::Text(t) => format!("\"{t}\""),
            Literal::Bool(b) => b.to_string(),
        }
    }

    fn value(&self) -> Value {
        match self {
            Literal::Num(n) => Value::Num(*n),
            Literal::Text(t) => Value::Text(t.clone()),
            Literal::Bool(b) => Value::Bool(*b),
        }
    }
}

/// How the observed value is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// `equals = …`
    Equals(Literal),
    /// `not_equals = …`
    NotEquals(Literal),
    /// `at_least = N`
    AtLeast(i64),
    /// `at_most = N`
    AtMost(i64),
    /// `above = N` (strictly greater)
    Above(i64),
    /// `below = N` (strictly less)
    Below(i64),
    /// `contains = …`: a text containing a part, or a list holding a value.
    Contains(Literal),
    /// `lacks = …`: the opposite.
    Lacks(Literal),
    /// `one_of = [ … ]`
    OneOf(Vec<Literal>),
}

impl Comparison {
    /// What is expected, in words: "equal to 536", "at least 2".
    pub fn describe(&self) -> String {
        match self {
            Comparison::Equals(l) => format!("equal to {}", l.show()),
            Comparison::NotEquals(l) => format!("different from {}", l.show()),
            Comparison::AtLeast(n) => format!("at least {n}"),
            Comparison::AtMost(n) => format!("at most {n}"),
            Comparison::Above(n) => format!("more than {n}"),
            Comparison::Below(n) => format!("less than {n}"),
            Comparison::Contains(l) => format!("containing {}", l.show()),
            Comparison::Lacks(l) => format!("not containing {}", l.show()),
            Comparison::OneOf(ls) => format!(
                "one of {}",
                ls.iter().map(Literal::show).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Whether `v` satisfies the comparison.
    pub fn holds(&self, ctx: &Context<'_>, v: &Value) -> bool {
        if let Value::Missing(_) = v {
            return false;
        }
        let num = Value::as_f64;
        let contains = |l: &Literal| match (v, l) {
            (Value::Text(t), Literal::Text(part)) => t.contains(part.as_str()),
            (Value::List(items), l) => items.iter().any(|i| ctx.same(i, &l.value())),
            _ => false,
        };
        match self {
            Comparison::Equals(l) => ctx.same(v, &l.value()),
            Comparison::NotEquals(l) => !ctx.same(v, &l.value()),
            Comparison::AtLeast(n) => num(v).is_some_and(|x| x >= *n as f64),
            Comparison::AtMost(n) => num(v).is_some_and(|x| x <= *n as f64),
            Comparison::Above(n) => num(v).is_some_and(|x| x > *n as f64),
            Comparison::Below(n) => num(v).is_some_and(|x| x < *n as f64),
            Comparison::Contains(l) => contains(l),
            Comparison::Lacks(l) => !contains(l),
            Comparison::OneOf(ls) => ls.iter().any(|l| ctx.same(v, &l.value())),
        }
    }
}

/// One expectation of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The sentence shown with ✓ or ✗, e.g. "the SYN carries an MSS option".
    pub that: String,
    /// What is measured.
    pub value: Query,
    /// What it must be.
    pub compare: Comparison,
    /// Line of the lesson file.
    pub line: usize,
}

/// The result of one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The sentence.
    pub that: String,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What was observed, in words: "syn(alice).tcp.options.mss = 1460".
    pub observed: String,
    /// Line of the lesson file.
    pub line: usize,
}

impl CheckOutcome {
    /// The check as a line for a student, its observed value withheld while it would give away
    /// the answer to one of `open` (the answers of the step's questions not yet answered): a
    /// passed check whose value is such an answer reads "✓ that — (after your answer)".
    pub fn line_for_student(&self, open: &[&str]) -> String {
        if !self.passed {
            return format!(
                "✗ {} — expected {}; observed {}",
                self.that, self.expected, self.observed
            );
        }
        if self.gives_away(open) {
            format!("✓ {} — (its value after your answer)", self.that)
        } else {
            format!("✓ {} — {}", self.that, self.observed)
        }
    }

    /// Whether this check's observed line shows one of the answers in `open` anywhere: as its
    /// value, as the value of one side of a comparison, or as a literal in the query itself.
    /// A one-word answer counts where it stands as a whole word ("1460" is not in "14600").
    pub fn gives_away(&self, open: &[&str]) -> bool {
        let observed = self.observed.to_lowercase();
        let words: Vec<&str> = observed
            .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
            .map(|w| w.trim_matches('.'))
            .filter(|w| !w.is_empty())
            .collect();
        open.iter().map(|a| normalise(a)).any(|answer| {
            if answer.is_empty() {
                false
            } else if answer.contains(char::is_whitespace) {
                observed.contains(&answer)
            } else {
                words.contains(&answer.as_str())
            }
        })
    }
}

/// Checks one expectation against the capture.
pub fn evaluate(ctx: &Context<'_>, e: &Expectation) -> CheckOutcome {
    let v = ctx.eval_query(&e.value);
    let mut observed = format!("{} = {}", e.value.source, v.describe(ctx.trace));
    // For `a == b` (and the like) also say what each side was: "= false" alone explains nothing.
    if let Expr::Binary {
        op, left, right, ..
    } = &e.value.expr
    {
        if !matches!(op, BinOp::And | BinOp::Or) {
            let side = |x: &Expr| format!("{} = {}", render(x), ctx.eval(x).describe(ctx.trace));
            let parts: Vec<String> = [left, right]
                .into_iter()
                .filter(|x| {
                    !matches!(
                        ***x,
                        Expr::Num(_) | Expr::Dec(..) | Expr::Text(_) | Expr::Bool(_)
                    )
                })
                .map(|x| side(x))
                .collect();
            if !parts.is_empty() {
                observed = format!("{observed} ({})", parts.join("; "));
            }
        }
    }
    CheckOutcome {
        that: e.that.clone(),
        passed: e.compare.holds(ctx, &v),
        expected: e.compare.describe(),
        observed,
        line: e.line,
    }
}

/// A question whose answer comes from the capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The question.
    pub ask: String,
    /// The query that computes the answer.
    pub answer: Query,
    /// Shown after a wrong answer.
    pub hint: Option<String>,
    /// Shown once the question is settled.
    pub explain: Option<String>,
    /// How far a numeric answer may be off and still count (a fraction for an answer with one,
    /// e.g. 0.5 for milliseconds to the half).
    pub tolerance: f64,
    /// For a multiple-choice question, the choices, shown as a), b), c) …; the capture's
    /// answer must be exactly one of them. Empty for a question answered in the student's words.
    pub choices: Vec<String>,
    /// Asked before the step's actions run ("predict, then observe"), judged against the
    /// capture after: one answer, no second try.
    pub predict: bool,
    /// Line of the lesson file.
    pub line: usize,
}

impl Question {
    /// The question as the student reads it, with its choices: "Who sent the first FIN?
    /// a) alice · b) the server".
    pub fn ask_text(&self) -> String {
        if self.choices.is_empty() {
            return self.ask.clone();
        }
        let choices: Vec<String> = self
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}) {c}", letter(i)))
            .collect();
        format!("{}  {}", self.ask, choices.join(" · "))
    }

    /// Whether `typed` can be judged: any answer to an open question, a letter or a choice's
    /// words to a multiple-choice one.
    pub fn takes(&self, typed: &str) -> bool {
        self.choices.is_empty() || self.chosen(typed).is_some()
    }

    /// The choice a typed answer picks: a letter ("b", "b)", "(b)") or the choice's own words.
    fn chosen(&self, typed: &str) -> Option<&str> {
        let t = normalise(typed);
        let t = t.trim_matches(|c| c == '(' || c == ')');
        if let [only] = t.as_bytes() {
            let index = usize::from(only.wrapping_sub(b'a'));
            return self.choices.get(index).map(String::as_str);
        }
        self.choices
            .iter()
            .find(|c| normalise(c) == t)
            .map(String::as_str)
    }
}

/// The letter of choice `i`: a, b, c …
fn letter(i: usize) -> char {
    char::from(b'a' + (i % 26) as u8)
}

/// How a typed answer compares with the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Matches.
    Right,
    /// Does not match.
    Wrong,
    /// The capture does not hold the answer (something went wrong in the run), and why.
    Unanswerable(String),
    /// A multiple-choice question answered with none of its choices: not counted as a try; what
    /// to type instead ("a letter from a to c, or a choice's words").
    NotAChoice(String),
}

/// The answer to a question as computed from the capture, in words (a packet is described,
/// not just numbered), or why the capture does not hold it.
pub fn answer_of(ctx: &Context<'_>, q: &Question) -> Result<String, String> {
    let words = match ctx.eval_query(&q.answer) {
        Value::Missing(why) => return Err(why),
        v @ (Value::Text(_) | Value::List(_)) => v.plain(ctx.trace),
        v => v.describe(ctx.trace),
    };
    if q.choices.is_empty() {
        return Ok(words);
    }
    // A multiple-choice question: the capture's answer must be exactly one of the choices.
    let right: Vec<(usize, &String)> = q
        .choices
        .iter()
        .enumerate()
        .filter(|(_, c)| judge_words(ctx, q, c) == Verdict::Right)
        .collect();
    match right.as_slice() {
        [(i, c)] => Ok(format!("{}) {c}", letter(*i))),
        [] => Err(format!(
            "the capture's answer, {words}, is none of the choices"
        )),
        several => Err(format!(
            "the capture's answer, {words}, matches {} choices: {}",
            several.len(),
            several
                .iter()
                .map(|(i, _)| format!("{})", letter(*i)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn normalise(s: &str) -> String {
    let s = s
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '.')
        .to_lowercase();
    let words: Vec<&str> = s.split_whitespace().collect();
    // "the client" is "client", "a SYN" is "SYN".
    let words = match words.split_first() {
        Some((first, rest)) if !rest.is_empty() && ["the", "a", "an"].contains(first) => rest,
        _ => &words[..],
    };
    words.join(" ")
}

/// `typed` is `want` give or take `tolerance`, an answer right at the limit included (decimal
/// fractions are not exact in binary: 40.215 − 40.213 is 0.0020000000000024).
fn within(typed: f64, want: f64, tolerance: f64) -> bool {
    (typed - want).abs() <= tolerance.abs() + 1e-9 * want.abs().max(1.0)
}

/// Reads the first number in a typed answer, with its fraction: "40.2 ms" → 40.2, "1,460" → 1460.
/// A comma between digits is a thousands separator, never a decimal point.
pub fn first_decimal(typed: &str) -> Option<f64> {
    let chars: Vec<char> = typed.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    // A number starts a word: the 0 of "eth0" is not the answer.
    let start = (0..chars.len()).find(|&i| {
        digit(i)
            && i.checked_sub(1)
                .and_then(|p| chars.get(p))
                .is_none_or(|c| !c.is_alphanumeric() && *c != '_')
    })?;
    let negative = start > 0 && chars.get(start - 1) == Some(&'-');
    let mut text = String::from(if negative { "-" } else { "" });
    let mut i = start;
    let mut point = false;
    // Exactly three digits after a comma (then no fourth): a thousands separator ("1,460");
    // otherwise a comma between digits is a decimal comma ("40,2").
    let thousands = |i: usize| (1..=3).all(|k| digit(i + k)) && !digit(i + 4);
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() {
            text.push(c);
        } else if (c == '_' || (c == ',' && thousands(i))) && !point && digit(i + 1) {
            // a thousands separator
        } else if (c == '.' || c == ',') && !point && digit(i + 1) {
            point = true;
            text.push('.');
        } else {
            break;
        }
        i += 1;
    }
    text.parse().ok()
}

/// Reads the first whole number in a typed answer: "1,460 bytes" → 1460, "0x16" → 22, "#5" → 5.
pub fn first_number(typed: &str) -> Option<i64> {
    let cleaned: String = typed
        .chars()
        .enumerate()
        .filter(|(i, c)| {
            // Drop thousands separators between digits ("1,460", "65 495", "1_000").
            !((*c == ',' || *c == '_' || *c == ' ')
                && typed
                    .chars()
                    .nth(i.wrapping_sub(1))
                    .is_some_and(|p| p.is_ascii_digit())
                && typed.chars().nth(i + 1).is_some_and(|n| n.is_ascii_digit()))
        })
        .map(|(_, c)| c)
        .collect();
    cleaned
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .find_map(|w| match w.strip_prefix("0x").or(w.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16).ok(),
            None => w.parse().ok(),
        })
}

/// Judges a student's typed answer.
pub fn judge(ctx: &Context<'_>, q: &Question, typed: &str) -> Verdict {
    if q.choices.is_empty() {
        return judge_words(ctx, q, typed);
    }
    // A letter or a choice's words; anything else is none of the choices.
    match q.chosen(typed) {
        Some(choice) => judge_words(ctx, q, choice),
        None => match ctx.eval_query(&q.answer) {
            Value::Missing(why) => Verdict::Unanswerable(why),
            _ => Verdict::NotAChoice(format!(
                "a letter from a to {}, or a choice's words",
                letter(q.choices.len().saturating_sub(1))
            )),
        },
    }
}

/// Whether `typed`, in the student's words, is the capture's answer to `q`.
fn judge_words(ctx: &Context<'_>, q: &Question, typed: &str) -> Verdict {
    let v = ctx.eval_query(&q.answer);
    let t = normalise(typed);
    let right = match &v {
        Value::Missing(why) => return Verdict::Unanswerable(why.clone()),
        // "40.6" is not 40: a typed fraction counts, against the tolerance.
        Value::Num(n) => match first_decimal(typed).filter(|x| x.fract() != 0.0) {
            Some(x) => within(x, *n as f64, q.tolerance),
            None => first_number(typed).is_some_and(|x| x.abs_diff(*n) as f64 <= q.tolerance.abs()),
        },
        // Right within the tolerance, or as the value is shown (three decimals).
        Value::Dec(x) => first_decimal(typed).is_some_and(|typed| {
            within(typed, *x, q.tolerance)
                || super::query::value::decimal(typed) == super::query::value::decimal(*x)
        }),
        Value::Packet(n) => first_number(typed).is_some_and(|x| x == i64::from(*n)),
        Value::Bool(b) => match t.as_str() {
            "yes" | "y" | "true" | "oui" | "ja" | "si" => *b,
            "no" | "n" | "false" | "non" | "nein" => !*b,
            _ => false,
        },
        other => {
            let want = normalise(&other.plain(ctx.trace));
            let squash = |s: &str| {
                s.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            };
            // A side may be named by who is on it: "alice" for "client" when alice is a client.
            let names_the_side = want == "client" && ctx.state.clients.contains_key(&t);
            t == want || names_the_side || (!t.is_empty() && squash(&t) == squash(&want))
        }
    };
    if right {
        Verdict::Right
    } else {
        Verdict::Wrong
    }
}

/// The layer a focus points into: a layer of the frame, or the TLS record layer above TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusLayer {
    /// A layer the dissector annotates.
    Frame(Layer),
    /// A TLS record's header and contents.
    Tls,
}

impl FocusLayer {
    /// Reads a layer name as lessons write it.
    pub fn parse(word: &str) -> Option<FocusLayer> {
        Some(match word.to_lowercase().as_str() {
            "link" | "eth" | "ethernet" => FocusLayer::Frame(Layer::Link),
            "arp" => FocusLayer::Frame(Layer::Arp),
            "ip" => FocusLayer::Frame(Layer::Ip),
            "tcp" => FocusLayer::Frame(Layer::Tcp),
            "payload" => FocusLayer::Frame(Layer::Payload),
            "tls" => FocusLayer::Tls,
            _ => return None,
        })
    }

    /// Its name as shown.
    pub fn name(self) -> &'static str {
        match self {
            FocusLayer::Frame(l) => l.name(),
            FocusLayer::Tls => "TLS",
        }
    }
}

/// Where a step directs the student's eyes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    /// A query giving a packet or a TLS record.
    pub target: Query,
    /// Which layer.
    pub layer: FocusLayer,
    /// The field's name as the layer columns show it (e.g. "Sequence number", "MSS").
    pub field: String,
    /// Line of the lesson file.
    pub line: usize,
}

/// A focus resolved in the capture: what to highlight and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocusView {
    /// The frame to select.
    pub frame: u32,
    /// The layer's name.
    pub layer: FocusLayer,
    /// The field's full name.
    pub field: String,
    /// Its value, as displayed.
    pub value: String,
    /// What it means, for the student.
    pub meaning: String,
    /// Its bytes in the frame, when known.
    pub range: Option<Range<usize>>,
    /// The value was read inside the encryption (an encrypted record's handshake messages): an
    /// eavesdropper does not see it.
    pub inside_encryption: bool,
}

fn name_matches(full: &str, wanted: &str) -> bool {
    let full = full.to_lowercase();
    let wanted = wanted.to_lowercase();
    full == wanted || full.strip_prefix("option: ") == Some(wanted.as_str())
}

/// Finds the focused field in the capture, or says why it cannot be shown.
pub fn resolve_focus(ctx: &Context<'_>, focus: &Focus) -> Result<FocusView, String> {
    let target = ctx.eval_query(&focus.target);
    match (focus.layer, target) {
        (_, Value::Missing(why)) => Err(format!("{} = nothing ({why})", focus.target.source)),
        (FocusLayer::Frame(_), Value::Packet(n)) => resolve_focus_at(ctx, focus, n),
        (FocusLayer::Tls, Value::Packet(n)) => {
            let first = ctx
                .trace
                .frame(n)
                .and_then(|e| (!e.records.is_empty()).then_some(e.records.start))
                .ok_or(format!("frame #{n} completes no TLS record"))?;
            tls_field(ctx, first, &focus.field)
        }
        (FocusLayer::Tls, Value::Record(i)) => tls_field(ctx, i, &focus.field),
        (FocusLayer::Frame(_), Value::Record(i)) => {
            let frame = ctx
                .trace
                .record(i)
                .map(|r| r.frame)
                .ok_or("no such record")?;
            resolve_focus_at(ctx, focus, frame)
        }
        (_, other) => Err(format!(
            "{} = {}, which is neither a packet nor a TLS record",
            focus.target.source,
            other.describe(ctx.trace)
        )),
    }
}

fn resolve_focus_at(ctx: &Context<'_>, focus: &Focus, frame: u32) -> Result<FocusView, String> {
    let FocusLayer::Frame(layer) = focus.layer else {
        return Err("not a frame layer".into());
    };
    let entry = ctx
        .trace
        .frame(frame)
        .ok_or(format!("frame #{frame} is not in the capture"))?;
    let fields = entry.packet().fields(layer, &entry.frame.data);
    let field = fields
        .iter()
        .find(|f| name_matches(f.name, &focus.field))
        .ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            if names.is_empty() {
                format!("frame #{frame} has no {} layer", layer.name())
            } else {
                format!(
                    "the {} layer of frame #{frame} has no field \"{}\"; its fields are: {}",
                    layer.name(),
                    focus.field,
                    names.join(", ")
                )
            }
        })?;
    Ok(FocusView {
        frame,
        layer: focus.layer,
        field: field.name.to_string(),
        value: field.value.clone(),
        meaning: field.meaning.clone(),
        range: Some(field.range.clone()),
        inside_encryption: false,
    })
}

/// The TLS record fields a focus can name: "Content type", "Version", "Length", "Handshake",
/// "Encrypted".
pub const TLS_FIELDS: &[&str] = &[
    "Content type",
    "Version",
    "Length",
    "Handshake",
    "Encrypted",
];

fn tls_field(ctx: &Context<'_>, i: usize, wanted: &str) -> Result<FocusView, String> {
    let r = ctx.trace.record(i).ok_or("no such record")?;
    let h = r.info.header;
    // Where the record's 5-byte header sits: in the frame that carried its first byte.
    let (frame, header_at) = ctx
        .trace
        .tcp()
        .connection(r.stream)
        .and_then(|c| {
            c.carriers(r.dir).iter().find(|c| {
                c.stream_offset <= r.stream_range.start
                    && r.stream_range.start + 5 <= c.stream_offset + u64::from(c.len)
            })
        })
        .map(|c| {
            (
                c.frame,
                Some(c.frame_offset as usize + (r.stream_range.start - c.stream_offset) as usize),
            )
        })
        .unwrap_or((r.frame, None));
    let at = |a: usize, b: usize| header_at.map(|s| s + a..s + b);
    let handshake: Vec<&str> = r.info.handshake.iter().map(|h| h.name()).collect();
    let dir = if r.dir == Direction::ClientToServer {
        "client"
    } else {
        "server"
    };
    let (name, value, meaning, range) = match wanted.to_lowercase().as_str() {
        "content type" | "type" => (
            "Content type",
            format!("{} ({})", h.content_type.number(), h.content_type),
            if r.info.encrypted && h.content_type.number() == 23 {
                "23, application_data, on the outside: in TLS 1.3 every encrypted record wears this type, and the real type is hidden inside the encryption (RFC 8446 §5.2)".to_string()
            } else {
                format!("what the record carries: {} (RFC 8446 §5.1: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data)", h.content_type)
            },
            at(0, 1),
        ),
        "version" => (
            "Version",
            format!("0x{:04x}", h.version),
            "the legacy record version: 0x0301 in the first ClientHello, 0x0303 afterwards, even for TLS 1.3 (RFC 8446 §5.1: the real version is agreed in the supported_versions extension)".to_string(),
            at(1, 3),
        ),
        "length" => (
            "Length",
            format!("{} bytes", h.length),
            format!("the body after this 5-byte header is {} bytes long; the receiver reads exactly that many before it can check and decrypt the record", h.length),
            at(3, 5),
        ),
        "handshake" => (
            "Handshake",
            if handshake.is_empty() { "(none)".to_string() } else { handshake.join(", ") },
            format!("handshake messages the {dir} completed in this record{}", if r.info.encrypted { " (read after decryption)" } else { " (in clear)" }),
            None,
        ),
        "encrypted" => (
            "Encrypted",
            if r.info.encrypted { "yes" } else { "no" }.to_string(),
            if r.info.encrypted {
                "the body is encrypted and authenticated: without the keys an eavesdropper sees only its length".to_string()
            } else {
                "the body travels in clear: anyone on the path can read it".to_string()
            },
            None,
        ),
        _ => {
            return Err(format!(
                "a TLS record has no field \"{wanted}\"; its fields are: {}",
                TLS_FIELDS.join(", ")
            ))
        }
    };
    Ok(FocusView {
        frame,
        layer: FocusLayer::Tls,
        field: name.to_string(),
        value,
        meaning,
        range,
        inside_encryption: r.info.encrypted && name == "Handshake",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::Trace;
    use crate::lesson::query::TypeEnv;
    use crate::lesson::state::LessonState;

    fn q(src: &str) -> Query {
        Query::parse(src, &TypeEnv::default()).unwrap()
    }

    #[test]
    fn comparisons_can_fail() {
        let trace = Trace::new();
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let e = |value: &str, compare: Comparison| {
            evaluate(
                &ctx,
                &Expectation {
                    that: "t".into(),
                    value: q(value),
                    compare,
                    line: 1,
                },
            )
        };
        assert!(e("2 + 2", Comparison::Equals(Literal::Num(4))).passed);
        let wrong = e("2 + 2", Comparison::Equals(Literal::Num(5)));
        assert!(!wrong.passed);
        assert_eq!(wrong.observed, "2 + 2 = 4");
        assert_eq!(wrong.expected, "equal to 5");
        assert!(e("3", Comparison::AtLeast(3)).passed);
        assert!(!e("3", Comparison::Above(3)).passed);
        assert!(
            e(
                "'SYN, ACK'",
                Comparison::Contains(Literal::Text("ACK".into()))
            )
            .passed
        );
        assert!(!e("'SYN'", Comparison::Contains(Literal::Text("ACK".into()))).passed);
        assert!(
            e(
                "count(packets())",
                Comparison::OneOf(vec![Literal::Num(1), Literal::Num(0)])
            )
            .passed
        );
        let missing = e("first(packets()).frame.len", Comparison::AtLeast(0));
        assert!(!missing.passed);
        assert!(missing.observed.contains("empty"), "{}", missing.observed);
    }

    #[test]
    fn a_focus_on_handshake_messages_says_when_they_were_read_inside_the_encryption() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tls13-chat.pcapng");
        let (trace, _) = crate::capture::open_capture(&path, None, &mut |_, _| {}).unwrap();
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let find = |encrypted: bool| {
            trace
                .records()
                .iter()
                .position(|r| r.info.encrypted == encrypted && !r.info.handshake.is_empty())
                .unwrap()
        };
        let inside = tls_field(&ctx, find(true), "Handshake").unwrap();
        assert!(inside.inside_encryption, "{inside:?}");
        let hello = tls_field(&ctx, find(false), "Handshake").unwrap();
        assert_eq!(hello.value, "ClientHello");
        assert!(!hello.inside_encryption);
        // The header of an encrypted record is on the wire.
        assert!(
            !tls_field(&ctx, find(true), "Length")
                .unwrap()
                .inside_encryption
        );
    }

    #[test]
    fn typed_answers() {
        assert_eq!(first_number("1,460 bytes"), Some(1460));
        assert_eq!(first_number("0x16"), Some(22));
        assert_eq!(first_number("frame #5"), Some(5));
        assert_eq!(first_number("it is 65 495"), Some(65495));
        assert_eq!(first_number("none"), None);
        let trace = Trace::new();
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let question = |answer: &str, tolerance| Question {
            ask: "?".into(),
            answer: q(answer),
            hint: None,
            explain: None,
            tolerance,
            choices: vec![],
            predict: false,
            line: 1,
        };
        assert_eq!(
            judge(&ctx, &question("1460", 0.0), "1460 bytes"),
            Verdict::Right
        );
        assert_eq!(judge(&ctx, &question("1460", 0.0), "1461"), Verdict::Wrong);
        assert_eq!(judge(&ctx, &question("1460", 2.0), "1461"), Verdict::Right);
        assert_eq!(
            judge(
                &ctx,
                &question("'TLS_AES_256_GCM_SHA384'", 0.0),
                " tls_aes_256_gcm_sha384 "
            ),
            Verdict::Right
        );
        assert_eq!(
            judge(&ctx, &question("'client'", 0.0), "the client"),
            Verdict::Right
        );
        assert_eq!(
            judge(&ctx, &question("'client'", 0.0), "server"),
            Verdict::Wrong
        );
        assert_eq!(judge(&ctx, &question("true", 0.0), "yes"), Verdict::Right);
        assert_eq!(judge(&ctx, &question("true", 0.0), "no"), Verdict::Wrong);
        assert!(matches!(
            judge(&ctx, &question("first(packets())", 0.0), "1"),
            Verdict::Unanswerable(_)
        ));
        // Milliseconds with a fraction: right to the three decimals shown, or within the
        // tolerance; a comma between digits groups thousands.
        assert_eq!(first_decimal("40.2 ms"), Some(40.2));
        assert_eq!(first_decimal("about 1,460.5"), Some(1460.5));
        assert_eq!(first_decimal("-3.25"), Some(-3.25));
        assert_eq!(first_decimal("40."), Some(40.0));
        assert_eq!(first_decimal("none"), None);
        assert_eq!(first_decimal("on client-eth0 it was 40.213"), Some(40.213));
        assert_eq!(first_decimal("40,2 ms"), Some(40.2), "a decimal comma");
        assert_eq!(first_decimal("1,460"), Some(1460.0));
        assert_eq!(first_decimal("10.0.0.1"), Some(10.0));
        assert_eq!(first_decimal("-"), None);
        let rtt = "ms(40213)";
        assert_eq!(judge(&ctx, &question(rtt, 0.0), "40.213"), Verdict::Right);
        assert_eq!(judge(&ctx, &question(rtt, 0.0), "40.2"), Verdict::Wrong);
        assert_eq!(judge(&ctx, &question(rtt, 0.05), "40.2 ms"), Verdict::Right);
        assert_eq!(judge(&ctx, &question(rtt, 0.05), "40.3"), Verdict::Wrong);
        // Right at the limit counts (0.002 is not exact in binary).
        assert_eq!(judge(&ctx, &question(rtt, 0.002), "40.215"), Verdict::Right);
        assert_eq!(judge(&ctx, &question(rtt, 0.002), "40.211"), Verdict::Right);
        assert_eq!(judge(&ctx, &question(rtt, 0.002), "40.216"), Verdict::Wrong);
        assert_eq!(judge(&ctx, &question(rtt, 1.0), "41"), Verdict::Right);
        assert_eq!(judge(&ctx, &question("40", 0.5), "40.4"), Verdict::Right);
        assert_eq!(judge(&ctx, &question("40", 0.5), "40.6"), Verdict::Wrong);
    }

    #[test]
    fn a_multiple_choice_question_takes_a_letter_or_the_words() {
        let trace = Trace::new();
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let choose = |answer: &str, choices: &[&str]| Question {
            ask: "Which side?".into(),
            answer: q(answer),
            hint: None,
            explain: None,
            tolerance: 0.0,
            choices: choices.iter().map(|c| c.to_string()).collect(),
            predict: false,
            line: 1,
        };
        let side = choose("'server'", &["the client", "the server", "neither"]);
        assert_eq!(
            side.ask_text(),
            "Which side?  a) the client · b) the server · c) neither"
        );
        assert_eq!(answer_of(&ctx, &side), Ok("b) the server".into()));
        for right in ["b", "B)", "(b)", "the server", " The Server. "] {
            assert_eq!(judge(&ctx, &side, right), Verdict::Right, "{right}");
        }
        for wrong in ["a", "c", "the client"] {
            assert_eq!(judge(&ctx, &side, wrong), Verdict::Wrong, "{wrong}");
        }
        // Neither a letter of a choice nor a choice's words: not a try.
        for other in ["d", "server side", ""] {
            assert_eq!(
                judge(&ctx, &side, other),
                Verdict::NotAChoice("a letter from a to c, or a choice's words".into()),
                "{other}"
            );
        }
        // A number among choices keeps its tolerance-free comparison.
        let mss = choose("1460", &["536", "1460", "65495"]);
        assert_eq!(answer_of(&ctx, &mss), Ok("b) 1460".into()));
        assert_eq!(judge(&ctx, &mss, "c"), Verdict::Wrong);
        // A lesson whose capture answers with none of the choices, or with two, is a broken
        // lesson, told to its author by `lesson check`.
        let none = choose("'server'", &["alice", "bob"]);
        assert!(answer_of(&ctx, &none).is_err_and(|e| e.contains("none of the choices")));
        let two = choose("1460", &["1460", "1460 bytes"]);
        assert!(answer_of(&ctx, &two).is_err_and(|e| e.contains("a), b)")));
    }

    #[test]
    fn a_client_may_be_named_for_the_client_side() {
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
        let side = Question {
            ask: "Who sent the first FIN, client or server?".into(),
            answer: q("'client'"),
            hint: None,
            explain: None,
            tolerance: 0.0,
            choices: vec![],
            predict: false,
            line: 1,
        };
        assert_eq!(judge(&ctx, &side, "alice"), Verdict::Right);
        assert_eq!(judge(&ctx, &side, "Alice."), Verdict::Right);
        assert_eq!(
            judge(&ctx, &side, "bob"),
            Verdict::Wrong,
            "bob is no client here"
        );
    }

    #[test]
    fn a_check_does_not_give_away_an_open_answer() {
        let check = CheckOutcome {
            that: "the server's ISN".into(),
            passed: true,
            expected: "any".into(),
            observed: "synack(alice).tcp.seq_raw = 3157808589".into(),
            line: 1,
        };
        let hidden = check.line_for_student(&["3157808589"]);
        assert!(!hidden.contains("3157808589"), "{hidden}");
        assert!(hidden.contains("after your answer"), "{hidden}");
        assert!(check.line_for_student(&[]).contains("3157808589"));
        assert!(check.line_for_student(&["1460"]).contains("3157808589"));
        // Nor through one side of a comparison, nor a literal in the query.
        let sides = CheckOutcome {
            observed: "synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw = 1 \
                       (synack(alice).tcp.ack_raw = 3157808590; syn(alice).tcp.seq_raw = 3157808589)"
                .into(),
            ..check.clone()
        };
        assert!(!sides
            .line_for_student(&["3157808589"])
            .contains("3157808589"));
        assert!(sides
            .line_for_student(&["315780858"])
            .contains("3157808589"));
        let literal = CheckOutcome {
            observed: "nth(records(alice), 3).hex == \"140303000101\" = true".into(),
            ..check.clone()
        };
        assert!(!literal
            .line_for_student(&["140303000101"])
            .contains("140303000101"));
        assert!(!literal
            .line_for_student(&["the client"])
            .contains("after your answer"));
        let failed = CheckOutcome {
            passed: false,
            ..check
        };
        assert!(failed
            .line_for_student(&["3157808589"])
            .contains("3157808589"));
    }

    #[test]
    fn a_frame_number_answer_accepts_that_frame_only() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join("tls13-chat.pcapng");
        let (trace, _) =
            crate::capture::open_capture(&sample, None, &mut |_, _| {}).expect("the sample");
        let state = LessonState::default();
        let ctx = Context::new(&trace, &state);
        let question = |answer: &str| Question {
            ask: "In which frame?".into(),
            answer: q(answer),
            hint: None,
            explain: None,
            tolerance: 0.0,
            choices: vec![],
            predict: false,
            line: 1,
        };
        // The third frame of the capture: a packet, not a number.
        let third = question("nth(packets(), 3)");
        assert_eq!(ctx.eval_query(&third.answer), Value::Packet(3));
        for right in ["3", "#3", "frame 3", "frame #3."] {
            assert_eq!(judge(&ctx, &third, right), Verdict::Right, "{right}");
        }
        for wrong in ["2", "4", "30", "13", "0", "", "the third"] {
            assert_eq!(judge(&ctx, &third, wrong), Verdict::Wrong, "{wrong:?}");
        }
    }
}
