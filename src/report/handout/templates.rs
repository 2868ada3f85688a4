//! The handouts' templates, built into the binary, in one MiniJinja environment: `page.html` (the
//! head every page shares: no fetches allowed, system fonts) and the pages that extend it, the
//! Markdown, and the filters they use. MiniJinja escapes every value of a `.html` template.

use super::HandoutError;

const TEMPLATES: [(&str, &str); 6] = [
    ("page.html", include_str!("page.html")),
    ("handout.html", include_str!("handout.html")),
    ("handout.md", include_str!("handout.md")),
    ("lesson.html", include_str!("lesson.html")),
    ("lesson.md", include_str!("lesson.md")),
    ("graphs.html", include_str!("graphs.html")),
];

/// The template `name` filled from `context`.
pub(super) fn render(name: &str, context: &impl serde::Serialize) -> Result<String, HandoutError> {
    let mut env = minijinja::Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("cell", super::markdown::cell);
    env.add_filter("code", super::markdown::code);
    env.add_filter("inline", super::lesson::inline);
    Ok(env
        .get_template(name)?
        .render(minijinja::value::Serde(context))?)
}
