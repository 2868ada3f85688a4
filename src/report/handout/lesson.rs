//! A lesson as a handout: its goal, lab and steps, each with the commands it runs, the checks made
//! on the student's own capture and the questions asked. The students' page holds no answer; the
//! teacher's page adds, for every question, how the capture answers it (the lesson's query), the
//! explanation shown once it is settled, and for every check what it measures and expects.
//! Built from the lesson file as `lesson run` reads it.

use serde::Serialize;

use super::HandoutError;
use crate::lesson::checks::Question;
use crate::lesson::format::Lesson;

/// Everything a lesson's handout shows.
#[derive(Debug, Clone, Serialize)]
pub struct LessonHandout {
    /// The lesson's name (`lesson run NAME`).
    pub name: String,
    /// Its title.
    pub title: String,
    /// What the student will be able to do.
    pub goal: String,
    /// The lessons to take first.
    pub prerequisites: Vec<String>,
    /// The lab, in words: link, MTU, rate, delay, loss.
    pub lab: String,
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: String,
    /// The teacher's page (with answers).
    pub teacher: bool,
    /// The steps.
    pub steps: Vec<LessonStep>,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
pub struct LessonStep {
    /// From 1.
    pub number: usize,
    /// Its title.
    pub title: String,
    /// Its text, a paragraph each.
    pub paragraphs: Vec<Paragraph>,
    /// The commands the step runs, as written in the lesson.
    pub actions: Vec<String>,
    /// The questions asked before the actions run ("predict, then observe").
    pub predictions: Vec<LessonQuestion>,
    /// What is checked on the capture.
    pub checks: Vec<LessonCheck>,
    /// The questions asked after.
    pub questions: Vec<LessonQuestion>,
}

/// A paragraph of a step's text: its sentences, then the items of a list it holds (lines that
/// start with `- ` in the lesson file).
#[derive(Debug, Clone, Serialize)]
pub struct Paragraph {
    /// The text before the list (or all of it).
    pub text: String,
    /// The list's items.
    pub items: Vec<String>,
}

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct LessonCheck {
    /// The sentence the student sees with ✓ or ✗.
    pub that: String,
    /// What is measured (teacher's page only).
    pub query: String,
    /// What it must be, in words (teacher's page only).
    pub expected: String,
}

/// One question.
#[derive(Debug, Clone, Serialize)]
pub struct LessonQuestion {
    /// "2.1": step and place.
    pub number: String,
    /// The question.
    pub ask: String,
    /// Its choices, lettered ("a) alice"); empty for an answer in the student's words.
    pub choices: Vec<String>,
    /// The hint shown after a wrong answer.
    pub hint: Option<String>,
    /// How the student's capture answers it (teacher's page only).
    pub answer: String,
    /// How far off a number may be (teacher's page only), in words; empty when exact.
    pub tolerance: String,
    /// The explanation shown once it is settled (teacher's page only).
    pub explain: Option<String>,
}

impl LessonHandout {
    /// The handout of `lesson`; `teacher` adds the answers.
    pub fn build(lesson: &Lesson, teacher: bool) -> LessonHandout {
        let lab = &lesson.lab;
        let mut words = vec![format!("link {}", lab.link), format!("MTU {}", lab.mtu)];
        if let Some(rate) = &lab.rate {
            words.push(format!("{rate} per link"));
        }
        if lab.delay_ms > 0.0 {
            words.push(format!("{} ms delay each way", lab.delay_ms));
        }
        for d in &lab.delay_on {
            words.push(format!(
                "link {} delayed {} ms each way",
                d.link,
                d.delay.as_secs_f64() * 1000.0
            ));
        }
        for m in &lab.mtu_on {
            words.push(format!("link {} MTU {}", m.link, m.mtu));
        }
        if lab.loss > 0.0 {
            words.push(format!("{}% loss", lab.loss));
        }
        if lab.attacker || lab.mitm {
            words.push("an attacker on link 1".into());
        }
        let question = |step: usize, k: usize, q: &Question| LessonQuestion {
            number: format!("{step}.{k}"),
            ask: q.ask.clone(),
            choices: q
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{}) {c}", letter(i)))
                .collect(),
            hint: q.hint.clone(),
            answer: q.answer.source.clone(),
            tolerance: if q.tolerance > 0.0 {
                format!("within {}", q.tolerance)
            } else {
                String::new()
            },
            explain: q.explain.clone(),
        };
        let steps = lesson
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let number = i + 1;
                let mut k = 0;
                let mut numbered = |predict: bool| {
                    s.questions
                        .iter()
                        .filter(|q| q.predict == predict)
                        .map(|q| {
                            k += 1;
                            question(number, k, q)
                        })
                        .collect::<Vec<_>>()
                };
                let predictions = numbered(true);
                let questions = numbered(false);
                LessonStep {
                    number,
                    title: s.title.clone(),
                    paragraphs: paragraphs(&s.text),
                    actions: s.actions.iter().map(|a| a.source.clone()).collect(),
                    predictions,
                    checks: s
                        .expects
                        .iter()
                        .map(|e| LessonCheck {
                            that: e.that.clone(),
                            query: e.value.source.clone(),
                            expected: e.compare.describe(),
                        })
                        .collect(),
                    questions,
                }
            })
            .collect();
        LessonHandout {
            name: lesson.name.clone(),
            title: lesson.title.clone(),
            goal: lesson.goal.trim().replace('\n', " "),
            prerequisites: lesson.prerequisites.clone(),
            lab: words.join(" · "),
            transport: lesson.transport.name().to_string(),
            teacher,
            steps,
        }
    }

    /// The handout as a page.
    pub fn html(&self) -> Result<String, HandoutError> {
        super::templates::render("lesson.html", self)
    }

    /// The handout as Markdown.
    pub fn markdown(&self) -> Result<String, HandoutError> {
        super::templates::render("lesson.md", self)
    }
}

/// A lesson's sentence for a page: escaped, with its `code` spans as code and its *words* in
/// emphasis (lesson files are written that way for the terminal, which shows them as typed).
pub(super) fn inline(text: String) -> minijinja::Value {
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        // An odd part lies between two backticks; a last odd part has no closing one.
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&emphasis(&escape(part)));
        }
    }
    minijinja::Value::from_safe_string(out)
}

/// `*word*` as emphasis: a `*` before a letter opens, one after a letter closes; a lone `*`
/// (a product, `8 * 1448`) stays.
fn emphasis(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let opens = chars[i] == '*'
            && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
            && (i == 0 || !chars[i - 1].is_alphanumeric());
        let close = opens
            .then(|| {
                (i + 2..chars.len()).find(|&j| {
                    chars[j] == '*'
                        && chars[j - 1].is_alphanumeric()
                        && chars.get(j + 1).is_none_or(|c| !c.is_alphanumeric())
                })
            })
            .flatten();
        match close {
            Some(j) => {
                out.push_str("<em>");
                out.extend(&chars[i + 1..j]);
                out.push_str("</em>");
                i = j + 1;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

fn letter(i: usize) -> char {
    char::from(b'a' + (i % 26) as u8)
}

/// A lesson's text as paragraphs: blank lines separate them, a line that starts with `- ` starts
/// a list item, and the other line breaks are spaces.
fn paragraphs(text: &str) -> Vec<Paragraph> {
    let words = |parts: &[&str]| {
        parts
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    text.split("\n\n")
        .filter_map(|block| {
            let mut intro: Vec<&str> = Vec::new();
            let mut items: Vec<Vec<&str>> = Vec::new();
            for line in block.lines() {
                let line = line.trim();
                match line.strip_prefix("- ") {
                    Some(item) => items.push(vec![item]),
                    None => match items.last_mut() {
                        Some(item) => item.push(line),
                        None => intro.push(line),
                    },
                }
            }
            let p = Paragraph {
                text: words(&intro),
                items: items.iter().map(|i| words(i)).collect(),
            };
            (!p.text.is_empty() || !p.items.is_empty()).then_some(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_emphasis_become_markup_and_the_rest_is_escaped() {
        let html = |t: &str| inline(t.to_string()).to_string();
        assert_eq!(
            html("press `t` & <Tab> for the *server* view"),
            "press <code>t</code> &amp; &lt;Tab&gt; for the <em>server</em> view"
        );
        assert_eq!(html("8 * 1448 = `a<b`"), "8 * 1448 = <code>a&lt;b</code>");
        assert_eq!(html("an `unclosed span"), "an `unclosed span");
        assert_eq!(html("**"), "**");
    }

    #[test]
    fn list_lines_become_items() {
        let p = paragraphs("Three options:\n- MSS,\n  the largest\n- SACK\n\nNext.");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "Three options:");
        assert_eq!(p[0].items, ["MSS, the largest", "SACK"]);
        assert_eq!(p[1].text, "Next.");
    }
}
