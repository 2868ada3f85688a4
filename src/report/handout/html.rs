//! The handout as one HTML page: a template built into the binary, filled from [`Handout`]
//! (minijinja escapes every value, since the template's name ends in `.html`).

use super::{Handout, HandoutError};

const TEMPLATE: &str = include_str!("handout.html");

/// The page.
pub(super) fn render(handout: &Handout) -> Result<String, HandoutError> {
    let mut env = minijinja::Environment::new();
    env.add_template("handout.html", TEMPLATE)?;
    Ok(env
        .get_template("handout.html")?
        .render(minijinja::value::Serde(handout))?)
}
