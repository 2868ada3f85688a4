//! The query reference for teachers, rendered from the tables the code uses, so that
//! `lessons/README.md` cannot drift from what the program accepts (a test compares them).

use super::query::entities::{CONN_PROPS, MESSAGE_PROPS, PACKET_PROPS, RECORD_PROPS};
use super::query::functions::FUNCTIONS;

/// The functions and properties as Markdown tables.
pub fn markdown() -> String {
    let mut out = String::from("### Functions\n\n| function | gives |\n|---|---|\n");
    for f in FUNCTIONS {
        out.push_str(&format!(
            "| `{}` | {} |\n",
            f.signature,
            f.doc.replace('|', "\\|")
        ));
    }
    for (title, props) in [
        ("Properties of a packet", PACKET_PROPS),
        ("Properties of a TLS record", RECORD_PROPS),
        ("Properties of a message", MESSAGE_PROPS),
        ("Properties of a connection", CONN_PROPS),
    ] {
        out.push_str(&format!(
            "\n### {title}\n\n| property | type | meaning |\n|---|---|---|\n"
        ));
        for p in props {
            out.push_str(&format!(
                "| `.{}` | {} | {} |\n",
                p.name,
                p.ty.ty().name(),
                p.doc.replace('|', "\\|")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// lessons/README.md holds the reference exactly as the code defines it. To refresh it:
    /// `PACKETPATH_PRINT_REFERENCE=1 cargo test --lib reference -- --nocapture`.
    #[test]
    fn the_teachers_readme_lists_every_function_and_property() {
        let reference = super::markdown();
        if std::env::var_os("PACKETPATH_PRINT_REFERENCE").is_some() {
            println!("{reference}");
        }
        let readme = include_str!("../../lessons/README.md");
        assert!(
            readme.contains(&reference),
            "lessons/README.md is out of date: paste the output of PACKETPATH_PRINT_REFERENCE=1 cargo test --lib reference -- --nocapture between its reference markers"
        );
    }

    /// Every whole lesson shown in lessons/README.md parses.
    #[test]
    fn the_examples_in_the_teachers_readme_are_valid_lessons() {
        let readme = include_str!("../../lessons/README.md");
        let mut checked = 0;
        for (i, block) in readme.split("```toml\n").skip(1).enumerate() {
            let text = block.split("```").next().unwrap_or_default();
            if text.trim_start().starts_with("title =") {
                let parsed =
                    crate::lesson::parse_lesson(&format!("README.md example {}", i + 1), text);
                assert!(parsed.is_ok(), "{:?}", parsed.err());
                checked += 1;
            }
        }
        assert_eq!(checked, 2, "the skeleton and the whole lesson");
    }
}
