//! The module layering of ARCHITECTURE.md, checked on the source: data flows one way.
//!
//! - Nothing in the library below `commands/` (the command line's own layer) calls into it.
//! - Inside `ui/`, the modules that build rows and details from the trace, and the pieces they
//!   use, never import the model, a pane, the view, `update` or the event loops: the model holds
//!   their state and the panes read the model, so an import the other way would close a circle.
//!
//! Test code (from `#[cfg(test)]` on) is not checked: tests may drive the whole UI.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("src/ is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code before its tests, without comment lines.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file is readable");
    text.lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn nothing_below_the_command_layer_reaches_up_into_it() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let commands = src().join("commands");
    let offenders: Vec<_> = files
        .iter()
        .filter(|p| !p.starts_with(&commands) && !p.ends_with("main.rs"))
        .filter(|p| code(p).contains("crate::commands"))
        .collect();
    assert!(
        offenders.is_empty(),
        "these library modules call into commands/ (move what they need down): {offenders:?}"
    );
}

#[test]
fn the_ui_data_modules_do_not_import_the_model_or_the_panes() {
    let ui = src().join("ui");
    let below = [
        "index.rs",
        "detail/mod.rs",
        "detail/record.rs",
        "timeline.rs",
        "stream.rs",
        "hex.rs",
        "hops.rs",
        "lesson.rs",
        "line.rs",
        "keys.rs",
        "theme.rs",
        "strings.rs",
        "help.rs",
        "terminal.rs",
    ];
    let above = ["model", "pane", "view", "update", "run"];
    let mut found = Vec::new();
    for file in below {
        let code = code(&ui.join(file));
        for module in above {
            for prefix in ["super::", "crate::ui::", "super::super::"] {
                if code.contains(&format!("{prefix}{module}")) {
                    found.push(format!("ui/{file} uses {prefix}{module}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "imports against the flow: {found:?}");
}
