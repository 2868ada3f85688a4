//! The lesson file format (TOML, described for teachers in `lessons/README.md`): parsing into a
//! [`Lesson`] and checking everything that can be checked before the lesson runs — actions,
//! queries and their types, client names, comparisons — so that a mistake is reported with the
//! file, the line and what is wrong, not discovered in class.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::chat::Transport;
use crate::lab::{LabOptions, LinkMode};

use super::actions::{self, Action};
use super::checks::{Comparison, Expectation, Focus, FocusLayer, Literal, Question};
use super::query::{Query, TypeEnv};
use super::value::Ty;

/// A lesson file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {what}")]
pub struct FormatError {
    /// The file, as given.
    pub file: String,
    /// The line (from 1).
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// The lab and server a lesson needs. The lab is entered once per process, before anything else
/// runs, which is why a lesson declares it up front.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonLab {
    /// The link: the lab's loopback, a virtual Ethernet cable or a path of routers.
    pub link: LinkMode,
    /// The link's MTU.
    pub mtu: u32,
    /// Percentage of packets dropped at random.
    pub loss: f64,
    /// Milliseconds each frame is held on the wire, or on every link of a path, each way.
    pub delay_ms: f64,
    /// The server also listens on ::1.
    pub ipv6: bool,
    /// Links of a path of routers with an MTU of their own (`mtu_on = ["2:576"]`).
    pub mtu_on: Vec<crate::lab::LinkMtu>,
    /// Every link of a path of routers limited to this rate (`rate = "8mbit"`).
    pub rate: Option<crate::lab::Rate>,
    /// Links of a path with a delay of their own (`delay_on = ["1:20"]`).
    pub delay_on: Vec<crate::lab::LinkDelay>,
    /// An attacker on the path's first link, for the `attack` action (`attacker = true`).
    pub attacker: bool,
    /// r1 is a man in the middle for the chat's connections (`man_in_the_middle = true`).
    pub mitm: bool,
}

impl LessonLab {
    /// The lab options to enter (`host_loopback` from the command line overrides the lab).
    pub fn options(&self, host_loopback: bool) -> LabOptions {
        let base = LabOptions {
            link: self.link,
            mtu: self.mtu,
            loss: self.loss,
            delay: std::time::Duration::from_secs_f64(self.delay_ms / 1000.0),
            host_loopback,
            rate: self.rate,
            attacker: self.attacker,
            mitm: self.mitm,
            ..LabOptions::default()
        };
        // `mtu_on` and `delay_on` were checked against the link when the lesson was read.
        let base = base.with_link_mtus(&self.mtu_on).unwrap_or(base);
        base.with_link_conditions(&self.delay_on, &[])
            .unwrap_or(base)
    }
}

/// One action with the line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepAction {
    /// The action as written.
    pub source: String,
    /// Parsed.
    pub action: Action,
    /// Line of the lesson file.
    pub line: usize,
}

/// One step of a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// A short title.
    pub title: String,
    /// The text for the student.
    pub text: String,
    /// What to do, in order.
    pub actions: Vec<StepAction>,
    /// Where to look.
    pub focus: Option<Focus>,
    /// What the capture must show.
    pub expects: Vec<Expectation>,
    /// What to ask.
    pub questions: Vec<Question>,
    /// Line of the step's `[[step]]` header (approximately: its first key).
    pub line: usize,
}

/// A parsed and checked lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Its name: the file name without the number prefix and `.toml` ("tcp-handshake").
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// It is one of the lessons built into packetpath (copied from `lessons/` when it was
    /// built), not read from a file now: editing `file` does not change it.
    pub builtin: bool,
    /// Its title.
    pub title: String,
    /// What the student will be able to do afterwards.
    pub goal: String,
    /// Lessons to do first (names).
    pub prerequisites: Vec<String>,
    /// The block `lesson list` shows it in: one of [`BLOCKS`], or none.
    pub block: Option<&'static str>,
    /// The server's transport when `start server` names none.
    pub transport: Transport,
    /// The lab it needs.
    pub lab: LessonLab,
    /// The steps.
    pub steps: Vec<Step>,
    /// The lesson's text as read (kept in a student's record, so a teacher's own lesson can be
    /// graded without its file).
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    title: String,
    goal: String,
    #[serde(default)]
    prerequisites: Vec<String>,
    block: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    lab: Option<Spanned<RawLab>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLab {
    link: Option<Spanned<String>>,
    mtu: Option<Spanned<i64>>,
    loss: Option<Spanned<f64>>,
    delay: Option<Spanned<f64>>,
    mtu_on: Option<Spanned<Vec<String>>>,
    rate: Option<Spanned<String>>,
    delay_on: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    ipv6: bool,
    #[serde(default)]
    attacker: bool,
    #[serde(default)]
    man_in_the_middle: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    title: String,
    text: String,
    #[serde(default)]
    actions: Vec<Spanned<String>>,
    focus: Option<Spanned<RawFocus>>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFocus {
    packet: Spanned<String>,
    layer: Spanned<String>,
    field: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    that: String,
    value: Spanned<String>,
    equals: Option<Spanned<toml::Value>>,
    not_equals: Option<Spanned<toml::Value>>,
    at_least: Option<Spanned<i64>>,
    at_most: Option<Spanned<i64>>,
    above: Option<Spanned<i64>>,
    below: Option<Spanned<i64>>,
    contains: Option<Spanned<toml::Value>>,
    lacks: Option<Spanned<toml::Value>>,
    one_of: Option<Spanned<Vec<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    ask: String,
    answer: Spanned<String>,
    hint: Option<String>,
    explain: Option<String>,
    #[serde(default)]
    tolerance: f64,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    predict: bool,
}

/// The blocks `lesson list` groups lessons into, in the order it shows them (a lesson's
/// `block = "…"`; lessons without one come last).
pub const BLOCKS: &[&str] = &["IP and link", "TCP", "TLS"];

/// Turns byte offsets into line numbers.
struct Lines<'a> {
    file: &'a str,
    text: &'a str,
}

impl Lines<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text
            .as_bytes()
            .get(..end)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err(&self, span: Range<usize>, what: impl Into<String>) -> FormatError {
        FormatError {
            file: self.file.to_string(),
            line: self.line(span.start),
            what: what.into(),
        }
    }
}

/// The lesson name for a file name: `02-tcp-handshake.toml` → `tcp-handshake`.
pub fn name_of_file(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".toml").unwrap_or(file_name);
    let rest = stem.trim_start_matches(|c: char| c.is_ascii_digit());
    match rest.strip_prefix('-').or(rest.strip_prefix('_')) {
        Some(name) if rest.len() < stem.len() && !name.is_empty() => name.to_string(),
        _ => stem.to_string(),
    }
}

fn literal(v: &Spanned<toml::Value>, lines: &Lines<'_>, key: &str) -> Result<Literal, FormatError> {
    match v.get_ref() {
        toml::Value::Integer(n) => Ok(Literal::Num(*n)),
        toml::Value::String(s) => Ok(Literal::Text(s.clone())),
        toml::Value::Boolean(b) => Ok(Literal::Bool(*b)),
        other => Err(lines.err(
            v.span(),
            format!(
                "`{key}` must be a whole number, a text or true/false, not {}",
                other.type_str()
            ),
        )),
    }
}

fn literal_fits(l: &Literal, ty: &Ty) -> bool {
    matches!(
        (l, ty),
        (_, Ty::Any)
            | (Literal::Num(_), Ty::Num | Ty::Packet | Ty::Text)
            | (Literal::Text(_), Ty::Text | Ty::Num)
            | (Literal::Bool(_), Ty::Bool)
    )
}

fn comparison(raw: &RawExpect, ty: &Ty, lines: &Lines<'_>) -> Result<Comparison, FormatError> {
    let value_span = raw.value.span();
    let mut found: Vec<(Comparison, Range<usize>)> = Vec::new();
    for (key, v) in [("equals", &raw.equals), ("not_equals", &raw.not_equals)] {
        if let Some(v) = v {
            let l = literal(v, lines, key)?;
            if !literal_fits(&l, ty) {
                return Err(lines.err(
                    v.span(),
                    format!(
                        "`value = \"{}\"` gives {}, so `{key}` cannot be {}",
                        raw.value.get_ref(),
                        ty.name(),
                        v.get_ref()
                    ),
                ));
            }
            let c = if key == "equals" {
                Comparison::Equals(l)
            } else {
                Comparison::NotEquals(l)
            };
            found.push((c, v.span()));
        }
    }
    for (key, v) in [
        ("at_least", &raw.at_least),
        ("at_most", &raw.at_most),
        ("above", &raw.above),
        ("below", &raw.below),
    ] {
        if let Some(v) = v {
            if !ty.fits(&Ty::Num) {
                return Err(lines.err(
                    v.span(),
                    format!(
                        "`{key}` compares numbers, but `value = \"{}\"` gives {}",
                        raw.value.get_ref(),
                        ty.name()
                    ),
                ));
            }
            let n = *v.get_ref();
            let c = match key {
                "at_least" => Comparison::AtLeast(n),
                "at_most" => Comparison::AtMost(n),
                "above" => Comparison::Above(n),
                _ => Comparison::Below(n),
            };
            found.push((c, v.span()));
        }
    }
    for (key, v) in [("contains", &raw.contains), ("lacks", &raw.lacks)] {
        if let Some(v) = v {
            let l = literal(v, lines, key)?;
            let ok = match ty {
                Ty::Text => matches!(l, Literal::Text(_)),
                Ty::List(inner) => literal_fits(&l, inner),
                Ty::Any => true,
                _ => false,
            };
            if !ok {
                return Err(lines.err(
                    v.span(),
                    format!(
                        "`{key}` looks inside a text or a list, but `value = \"{}\"` gives {}",
                        raw.value.get_ref(),
                        ty.name()
                    ),
                ));
            }
            let c = if key == "contains" {
                Comparison::Contains(l)
            } else {
                Comparison::Lacks(l)
            };
            found.push((c, v.span()));
        }
    }
    if let Some(v) = &raw.one_of {
        let mut ls = Vec::new();
        for item in v.get_ref() {
            let l = literal(&Spanned::new(v.span(), item.clone()), lines, "one_of")?;
            if !literal_fits(&l, ty) {
                return Err(lines.err(
                    v.span(),
                    format!("`one_of` holds {item}, but `value` gives {}", ty.name()),
                ));
            }
            ls.push(l);
        }
        if ls.is_empty() {
            return Err(lines.err(v.span(), "`one_of` is empty"));
        }
        found.push((Comparison::OneOf(ls), v.span()));
    }
    match found.len() {
        1 => Ok(found.remove(0).0),
        0 => Err(lines.err(
            value_span,
            "this expectation says what to measure but not what it should be: add one of equals, not_equals, at_least, at_most, above, below, contains, lacks, one_of",
        )),
        _ => Err(lines.err(
            found.get(1).map_or(value_span, |f| f.1.clone()),
            "an expectation takes exactly one comparison (equals, at_least, …); split it into two expectations",
        )),
    }
}

fn query(
    src: &Spanned<String>,
    env: &TypeEnv,
    lines: &Lines<'_>,
    key: &str,
) -> Result<Query, FormatError> {
    Query::parse(src.get_ref(), env)
        .map_err(|e| lines.err(src.span(), format!("`{key} = \"{}\"`: {e}", src.get_ref())))
}

/// Clients that the actions so far have connected or tried to connect, and those still connected.
#[derive(Default)]
struct Clients {
    known: Vec<String>,
    connected: Vec<String>,
    server: bool,
    /// The lab has two hosts (wire or routers): ping and traceroute have somewhere to go.
    path: bool,
    /// The lab has an attacker on its path (`attacker = true`).
    attacker: bool,
}

impl Clients {
    fn apply(&mut self, action: &Action) -> Result<(), String> {
        let need = |connected: &Vec<String>, name: &str, verb: &str| {
            if connected.iter().any(|c| c == name) {
                Ok(())
            } else {
                Err(format!(
                    "`{verb} {name}`: {name} is not connected at this point (connected: {})",
                    if connected.is_empty() {
                        "nobody".to_string()
                    } else {
                        connected.join(", ")
                    }
                ))
            }
        };
        match action {
            Action::StartServer { .. } => {
                self.server = true;
                self.connected.clear();
            }
            Action::Connect {
                name,
                expect_refusal,
                ..
            } => {
                if !self.server {
                    return Err(format!("`connect {name}` before any `start server`"));
                }
                if self.connected.contains(name) {
                    return Err(format!("{name} is already connected"));
                }
                if self.known.contains(name) {
                    return Err(format!("the name {name} was already used in this lesson: give each client its own name, so that queries can tell them apart"));
                }
                self.known.push(name.clone());
                if !expect_refusal {
                    self.connected.push(name.clone());
                }
            }
            Action::Send { name, .. } => need(&self.connected, name, "send")?,
            Action::Attack { .. } if !self.attacker => {
                return Err(
                    "`attack` needs an attacker on the path: set `link = \"routers:1\"` and `attacker = true` in [lab]"
                        .into(),
                )
            }
            // The connection may end (a TLS alert): the client counts as gone afterwards.
            Action::Attack { name, .. } => {
                need(&self.connected, name, "attack")?;
                self.connected.retain(|c| c != name);
            }
            Action::Wait { name, .. } => need(&self.connected, name, "wait")?,
            Action::Close { name } => {
                need(&self.connected, name, "close")?;
                self.connected.retain(|c| c != name);
            }
            Action::Pause { .. } => {}
            Action::Ping(_) | Action::Traceroute(_) if !self.path => {
                return Err(
                    "`ping` and `traceroute` go from the lab's client host to its server host: set `link = \"routers:2\"` (or \"wire\") in [lab]"
                        .into(),
                )
            }
            Action::Ping(_) | Action::Traceroute(_) => {}
            Action::Transfer { name, .. } => {
                if self.known.contains(name) {
                    return Err(format!("the name {name} was already used in this lesson: give each transfer and client its own name, so that queries can tell them apart"));
                }
                // Its connection is done when the action is: known to queries, not connected.
                self.known.push(name.clone());
            }
        }
        Ok(())
    }
}

/// Parses and checks a lesson. `file` names it in errors; `file_name` gives its name.
pub fn parse_lesson(file: &str, text: &str) -> Result<Lesson, FormatError> {
    let lines = Lines { file, text };
    let raw: RawLesson = toml::from_str(text).map_err(|e| FormatError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| lines.line(s.start)),
        what: e.message().trim().to_string(),
    })?;
    let block = match &raw.block {
        None => None,
        Some(b) => Some(
            BLOCKS
                .iter()
                .copied()
                .find(|known| known.eq_ignore_ascii_case(b.get_ref().trim()))
                .ok_or_else(|| {
                    lines.err(
                        b.span(),
                        format!(
                            "`block = \"{}\"`: use one of {}, or leave `block` out",
                            b.get_ref(),
                            BLOCKS
                                .iter()
                                .map(|k| format!("\"{k}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
        ),
    };
    let transport = match &raw.transport {
        Some(t) => actions::parse_transport(t.get_ref()).map_err(|e| lines.err(t.span(), e))?,
        None => Transport::Tls13,
    };
    let lab_raw = raw.lab.as_ref();
    let lab_span = lab_raw.map_or(0..0, |l| l.span());
    let lab_raw = lab_raw.map(|l| l.get_ref());
    let link = match lab_raw.and_then(|l| l.link.as_ref()) {
        None => LinkMode::Loopback,
        Some(s) => s
            .get_ref()
            .parse::<LinkMode>()
            .map_err(|why| lines.err(s.span(), format!("`link`: {why}")))?,
    };
    let mtu = match lab_raw.and_then(|l| l.mtu.as_ref()) {
        None => 1500,
        Some(m) => {
            let v = *m.get_ref();
            u32::try_from(v)
                .ok()
                .filter(|v| (1280..=65536).contains(v))
                .ok_or_else(|| lines.err(m.span(), format!("`mtu = {v}`: use 1280 to 65536 bytes (1280 is IPv6's minimum, 1500 Ethernet's)")))?
        }
    };
    let loss = match lab_raw.and_then(|l| l.loss.as_ref()) {
        None => 0.0,
        Some(l) => {
            let v = *l.get_ref();
            if !(0.0..=50.0).contains(&v) {
                return Err(lines.err(l.span(), format!("`loss = {v}`: a percentage from 0 to 50")));
            }
            v
        }
    };
    let delay_ms = match lab_raw.and_then(|l| l.delay.as_ref()) {
        None => 0.0,
        Some(d) => {
            let v = *d.get_ref();
            if !(0.0..=10_000.0).contains(&v) {
                return Err(lines.err(
                    d.span(),
                    format!("`delay = {v}`: milliseconds from 0 to 10000, each way"),
                ));
            }
            if v > 0.0 && link == LinkMode::Loopback {
                return Err(lines.err(
                    d.span(),
                    format!(
                        "`delay = {v}`: a delay needs a cable to hold frames on: `link = \"wire\"` or `\"routers:N\"`"
                    ),
                ));
            }
            v
        }
    };
    let mtu_on = match lab_raw.and_then(|l| l.mtu_on.as_ref()) {
        None => Vec::new(),
        Some(m) => {
            let parsed: Result<Vec<crate::lab::LinkMtu>, String> =
                m.get_ref().iter().map(|t| t.parse()).collect();
            let checked = parsed.and_then(|mtus| {
                LabOptions {
                    link,
                    mtu,
                    ..LabOptions::default()
                }
                .with_link_mtus(&mtus)
                .map(|_| mtus)
            });
            checked.map_err(|why| lines.err(m.span(), format!("`mtu_on`: {why}")))?
        }
    };
    let rate = match lab_raw.and_then(|l| l.rate.as_ref()) {
        None => None,
        Some(r) if !matches!(link, LinkMode::Routers(_)) => {
            return Err(lines.err(
                r.span(),
                "`rate` limits the links of a path: set `link = \"routers:N\"` in [lab]",
            ))
        }
        Some(r) => Some(
            r.get_ref()
                .parse::<crate::lab::Rate>()
                .map_err(|why| lines.err(r.span(), format!("`rate`: {why}")))?,
        ),
    };
    let delay_on = match lab_raw.and_then(|l| l.delay_on.as_ref()) {
        None => Vec::new(),
        Some(d) => {
            let parsed: Result<Vec<crate::lab::LinkDelay>, String> =
                d.get_ref().iter().map(|t| t.parse()).collect();
            let checked = parsed.and_then(|delays| {
                LabOptions {
                    link,
                    ..LabOptions::default()
                }
                .with_link_conditions(&delays, &[])
                .map(|_| delays)
            });
            checked.map_err(|why| lines.err(d.span(), format!("`delay_on`: {why}")))?
        }
    };
    let ipv6 = lab_raw.is_some_and(|l| l.ipv6);
    if ipv6 && link != LinkMode::Loopback {
        return Err(lines.err(lab_span, "`ipv6 = true` works only on the loopback link"));
    }
    let attacker = lab_raw.is_some_and(|l| l.attacker);
    if attacker && !matches!(link, LinkMode::Routers(_)) {
        return Err(lines.err(
            lab_span,
            "`attacker = true` puts an attacker on a path of routers: set `link = \"routers:1\"` (or more routers)",
        ));
    }
    let mitm = lab_raw.is_some_and(|l| l.man_in_the_middle);
    if mitm && !matches!(link, LinkMode::Routers(_)) {
        return Err(lines.err(
            lab_span,
            "`man_in_the_middle = true` makes r1 the attacker's: set `link = \"routers:1\"` (or more routers)",
        ));
    }
    if raw.step.is_empty() {
        return Err(FormatError {
            file: file.to_string(),
            line: lines.line(text.len()),
            what: "the lesson has no steps: add at least one [[step]] with a title and a text"
                .into(),
        });
    }
    let mut clients = Clients {
        path: link != LinkMode::Loopback,
        attacker,
        ..Clients::default()
    };
    let mut steps = Vec::new();
    for raw_step in &raw.step {
        let step_line = lines.line(raw_step.span().start);
        let s = raw_step.get_ref();
        let mut actions = Vec::new();
        for a in &s.actions {
            let action = actions::parse(a.get_ref())
                .map_err(|e| lines.err(a.span(), format!("action \"{}\": {e}", a.get_ref())))?;
            clients
                .apply(&action)
                .map_err(|e| lines.err(a.span(), format!("action \"{}\": {e}", a.get_ref())))?;
            if let Action::Connect { knobs, .. } = &action {
                if knobs.ipv6 && !ipv6 {
                    return Err(lines.err(
                        a.span(),
                        "`connect … --ipv6` needs `ipv6 = true` in the lesson's [lab]",
                    ));
                }
            }
            actions.push(StepAction {
                source: a.get_ref().clone(),
                action,
                line: lines.line(a.span().start),
            });
        }
        let env = TypeEnv {
            clients: clients.known.clone(),
            item: None,
        };
        let focus = match &s.focus {
            None => None,
            Some(f) => {
                let fr = f.get_ref();
                let target = query(&fr.packet, &env, &lines, "packet")?;
                if !matches!(target.ty, Ty::Packet | Ty::Record | Ty::Any) {
                    return Err(lines.err(
                        fr.packet.span(),
                        format!(
                            "`packet = \"{}\"` must give a packet or a TLS record, not {}",
                            fr.packet.get_ref(),
                            target.ty.name()
                        ),
                    ));
                }
                let layer = FocusLayer::parse(fr.layer.get_ref()).ok_or_else(|| {
                    lines.err(
                        fr.layer.span(),
                        format!(
                            "`layer = \"{}\"`: use link, arp, ip, tcp, payload or tls",
                            fr.layer.get_ref()
                        ),
                    )
                })?;
                Some(Focus {
                    target,
                    layer,
                    field: fr.field.clone(),
                    line: lines.line(f.span().start),
                })
            }
        };
        let mut expects = Vec::new();
        for e in &s.expect {
            let re = e.get_ref();
            let value = query(&re.value, &env, &lines, "value")?;
            let compare = comparison(re, &value.ty, &lines)?;
            expects.push(Expectation {
                that: re.that.clone(),
                value,
                compare,
                line: lines.line(re.value.span().start),
            });
        }
        let mut questions: Vec<Question> = Vec::new();
        for q in &s.question {
            let rq = q.get_ref();
            let line = lines.line(rq.answer.span().start);
            if rq.predict && (actions.is_empty() || questions.iter().any(|q| !q.predict)) {
                return Err(FormatError {
                    file: file.to_string(),
                    line,
                    what: "`predict = true` asks before the step's actions run: the step needs \
                           actions, and its predictions come before its other questions"
                        .into(),
                });
            }
            let choices: Vec<String> = rq.choices.iter().map(|c| c.trim().to_string()).collect();
            let distinct: std::collections::HashSet<String> =
                choices.iter().map(|c| c.to_lowercase()).collect();
            if !choices.is_empty()
                && (!(2..=8).contains(&choices.len())
                    || choices.iter().any(String::is_empty)
                    || distinct.len() != choices.len())
            {
                return Err(FormatError {
                    file: file.to_string(),
                    line,
                    what: "`choices` takes 2 to 8 different, non-empty choices, e.g. choices = [\"alice\", \"the server\"]".into(),
                });
            }
            if !(rq.tolerance.is_finite() && rq.tolerance >= 0.0) {
                return Err(FormatError {
                    file: file.to_string(),
                    line,
                    what: format!(
                        "`tolerance = {}`: a tolerance is a number of 0 or more, e.g. 2 or 0.5",
                        rq.tolerance
                    ),
                });
            }
            questions.push(Question {
                ask: rq.ask.clone(),
                answer: query(&rq.answer, &env, &lines, "answer")?,
                hint: rq.hint.clone(),
                explain: rq.explain.clone(),
                tolerance: rq.tolerance,
                choices,
                predict: rq.predict,
                line,
            });
        }
        steps.push(Step {
            title: s.title.clone(),
            text: s.text.trim().to_string(),
            actions,
            focus,
            expects,
            questions,
            line: step_line,
        });
    }
    let base = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Lesson {
        name: name_of_file(&base),
        file: file.to_string(),
        builtin: false,
        title: raw.title,
        goal: raw.goal.trim().to_string(),
        prerequisites: raw.prerequisites,
        block,
        transport,
        lab: LessonLab {
            link,
            mtu,
            loss,
            delay_ms,
            ipv6,
            mtu_on,
            rate,
            delay_on,
            attacker,
            mitm,
        },
        steps,
        source: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "A tiny lesson"
goal = "See a SYN."

[lab]
mtu = 1500

[[step]]
title = "Connect"
text = "Alice connects."
actions = ["start server", "connect alice --mss 536"]
focus = { packet = "syn(alice)", layer = "tcp", field = "MSS" }

[[step.expect]]
that = "the SYN announces 536"
value = "syn(alice).tcp.options.mss"
equals = 536

[[step.question]]
ask = "Which port?"
answer = "syn(alice).tcp.srcport"
"#;

    #[test]
    fn a_good_lesson_parses() {
        let l = parse_lesson("lessons/07-tiny.toml", GOOD).unwrap();
        assert_eq!(l.name, "tiny");
        assert_eq!(l.steps.len(), 1);
        assert_eq!(l.steps[0].actions.len(), 2);
        assert_eq!(
            l.steps[0].expects[0].compare,
            Comparison::Equals(Literal::Num(536))
        );
        assert_eq!(l.steps[0].expects[0].line, 16);
        assert_eq!(l.lab.mtu, 1500);
        assert_eq!(l.transport, Transport::Tls13);
    }

    fn error_of(text: &str) -> FormatError {
        parse_lesson("bad.toml", text).unwrap_err()
    }

    #[test]
    fn broken_files_name_file_line_and_what() {
        // TOML syntax: an unclosed string on line 16.
        let e = error_of(&GOOD.replace(
            "value = \"syn(alice).tcp.options.mss\"",
            "value = \"syn(alice",
        ));
        assert_eq!((e.file.as_str(), e.line), ("bad.toml", 16), "{e}");
        // A misspelt key.
        let e = error_of(&GOOD.replace("equals = 536", "equal = 536"));
        assert_eq!(e.line, 17, "{e}");
        assert!(e.what.contains("equal"), "{e}");
        // A misspelt property, with what exists.
        let e = error_of(&GOOD.replace("tcp.options.mss\"", "tcp.options.mms\""));
        assert_eq!(e.line, 16);
        assert!(
            e.what.contains("tcp.options.mms") && e.what.contains("tcp.options.mss"),
            "{e}"
        );
        // A client nobody connected.
        let e = error_of(&GOOD.replace("answer = \"syn(alice)", "answer = \"syn(bob)"));
        assert_eq!(e.line, 21);
        assert!(e.what.contains("bob"), "{e}");
        // A bad action.
        let e = error_of(&GOOD.replace("--mss 536", "--mss lots"));
        assert_eq!(e.line, 11);
        assert!(e.what.contains("--mss lots"), "{e}");
        // A comparison of the wrong type.
        let e = error_of(&GOOD.replace("equals = 536", "equals = true"));
        assert!(e.what.contains("a number"), "{e}");
        // No comparison.
        let e = error_of(&GOOD.replace("equals = 536", ""));
        assert!(e.what.contains("at_least"), "{e}");
        // Missing text.
        let e = error_of(&GOOD.replace("text = \"Alice connects.\"", ""));
        assert!(e.what.contains("text"), "{e}");
        assert_eq!(e.to_string().split(':').next(), Some("bad.toml"));
        // A rate and per-link delays need a path of routers, and links it has.
        assert!(error_of(&GOOD.replace("mtu = 1500", "rate = \"8mbit\""))
            .what
            .contains("routers:N"));
        assert!(
            error_of(&GOOD.replace("mtu = 1500", "link = \"routers:1\"\nrate = \"fast\""))
                .what
                .contains("rate")
        );
        assert!(error_of(
            &GOOD.replace("mtu = 1500", "link = \"routers:1\"\ndelay_on = [\"3:20\"]")
        )
        .what
        .contains("delay_on"));
        // Lab values.
        assert!(error_of(&GOOD.replace("mtu = 1500", "mtu = 100"))
            .what
            .contains("mtu"));
        assert!(error_of(&GOOD.replace("mtu = 1500", "link = \"cable\""))
            .what
            .contains("wire"));
        // An attacker needs a path, and the attack action an attacker.
        assert!(error_of(&GOOD.replace("mtu = 1500", "attacker = true"))
            .what
            .contains("routers:1"));
        let no_attacker = GOOD.replace("mtu = 1500", "link = \"routers:1\"").replace(
            "\"connect alice --mss 536\"",
            "\"connect alice --mss 536\", 'attack alice flip \"hi\"'",
        );
        let e = error_of(&no_attacker);
        assert!(e.what.contains("attacker = true"), "{e}");
        // A delay needs the wire, and a sane number of milliseconds.
        let e = error_of(&GOOD.replace("mtu = 1500", "delay = 20"));
        assert!(
            e.what.contains("link = \"wire\"") && e.what.contains("routers:N"),
            "{e}"
        );
        assert_eq!(e.line, 6, "{e}");
        let e = error_of(&GOOD.replace("mtu = 1500", "link = \"wire\"\ndelay = 20000"));
        assert!(e.what.contains("0 to 10000"), "{e}");
        let wire = parse_lesson(
            "wire.toml",
            &GOOD.replace("mtu = 1500", "link = \"wire\"\ndelay = 20"),
        )
        .unwrap();
        assert_eq!(wire.lab.delay_ms, 20.0);
        assert_eq!(
            wire.lab.options(false).delay,
            std::time::Duration::from_millis(20)
        );
        // A link's own MTU needs a path of routers with that link.
        let e = error_of(&GOOD.replace("mtu = 1500", "mtu_on = [\"2:576\"]"));
        assert!(
            e.what.contains("mtu_on") && e.what.contains("routers:N"),
            "{e}"
        );
        let e = error_of(&GOOD.replace("mtu = 1500", "link = \"routers:1\"\nmtu_on = [\"3:576\"]"));
        assert!(e.what.contains("2 links"), "{e}");
        let path = parse_lesson(
            "path.toml",
            &GOOD.replace("mtu = 1500", "link = \"routers:2\"\nmtu_on = [\"2:576\"]"),
        )
        .unwrap();
        assert_eq!(path.lab.options(false).link_mtu(2), 576);
        assert_eq!(path.lab.options(false).link_mtu(1), 1500);
        // Sending as a client that is not connected.
        let e = error_of(&GOOD.replace("\"connect alice --mss 536\"", "\"send alice \\\"hi\\\"\""));
        assert!(e.what.contains("not connected"), "{e}");
        // Connecting before starting the server.
        let e = error_of(&GOOD.replace("\"start server\", ", ""));
        assert!(e.what.contains("start server"), "{e}");
        // Focus on a layer that does not exist.
        let e = error_of(&GOOD.replace("layer = \"tcp\"", "layer = \"udp\""));
        assert_eq!(e.line, 12);
    }

    #[test]
    fn choices_are_read_and_checked() {
        let choices = GOOD.replace(
            "answer = \"syn(alice).tcp.srcport\"",
            "answer = \"syn(alice).tcp.srcport\"\nchoices = [\" 80 \", \"8443\"]",
        );
        let l = parse_lesson("mc.toml", &choices).unwrap();
        assert_eq!(l.steps[0].questions[0].choices, ["80", "8443"]);
        assert_eq!(
            l.steps[0].questions[0].ask_text(),
            "Which port?  a) 80 · b) 8443"
        );
        for bad in ["[\"80\"]", "[\"80\", \" \"]", "[\"TLS\", \"tls\"]"] {
            let e = error_of(&choices.replace("[\" 80 \", \"8443\"]", bad));
            assert!(e.what.contains("2 to 8 different"), "{bad}: {e}");
            assert_eq!(e.line, 21, "{e}");
        }
    }

    #[test]
    fn a_prediction_needs_actions_and_comes_first() {
        let predict = GOOD.replace(
            "answer = \"syn(alice).tcp.srcport\"",
            "answer = \"syn(alice).tcp.srcport\"\npredict = true",
        );
        let l = parse_lesson("p.toml", &predict).unwrap();
        assert!(l.steps[0].questions[0].predict);
        let e = error_of(&format!(
            "{GOOD}\n[[step]]\ntitle = \"Two\"\ntext = \"No actions.\"\n\n[[step.question]]\n\
             ask = \"Port?\"\nanswer = \"syn(alice).tcp.srcport\"\npredict = true\n"
        ));
        assert!(e.what.contains("predict = true"), "{e}");
        let second = GOOD.replace(
            "answer = \"syn(alice).tcp.srcport\"",
            "answer = \"syn(alice).tcp.srcport\"\n\n[[step.question]]\nask = \"MSS?\"\nanswer = \"syn(alice).tcp.options.mss\"\npredict = true",
        );
        let e = error_of(&second);
        assert!(e.what.contains("before its other questions"), "{e}");
    }

    #[test]
    fn blocks_are_one_of_the_known_ones() {
        assert_eq!(parse_lesson("a.toml", GOOD).unwrap().block, None);
        let with = |b: &str| {
            GOOD.replace(
                "goal = \"See a SYN.\"",
                &format!("goal = \"See a SYN.\"\nblock = \"{b}\""),
            )
        };
        assert_eq!(
            parse_lesson("a.toml", &with("TCP")).unwrap().block,
            Some("TCP")
        );
        assert_eq!(
            parse_lesson("a.toml", &with("ip and link")).unwrap().block,
            Some("IP and link"),
            "case does not matter"
        );
        let e = error_of(&with("UDP"));
        assert_eq!(e.line, 4, "{e}");
        assert!(
            e.what.contains("\"UDP\"") && e.what.contains("\"IP and link\", \"TCP\", \"TLS\""),
            "{e}"
        );
    }

    #[test]
    fn names_from_files() {
        assert_eq!(name_of_file("02-tcp-handshake.toml"), "tcp-handshake");
        assert_eq!(name_of_file("mine.toml"), "mine");
        assert_eq!(name_of_file("2024.toml"), "2024");
    }
}
