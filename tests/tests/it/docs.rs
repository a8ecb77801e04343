//! Documentation that cannot rot: every file path a Markdown document of the repository names in backticks
//! exists. A name is taken for a path when it ends in a file extension of the repository (`writer.rs`,
//! `scripts/test.sh`) or starts with a top-level folder of it (`tests/tests/it/`); it is found when a file or
//! folder of the repository is that path, or ends with it (`src/record.rs` in a paragraph about `proto`).
//! Placeholders such as `DATA/quarantine/` are allowed by [`PLACEHOLDERS`], paths outside the repository
//! by [`OUTSIDE`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Extensions that make a name in backticks a file path.
const EXTENSIONS: &[&str] = &["rs", "md", "toml", "sh", "py", "proto", "json", "yml", "yaml", "lock", "sql"];

/// Names that stand for a directory the operator chooses, not a path of the repository.
const PLACEHOLDERS: &[&str] = &["DATA/", "DIR/", "OUT/", "$"];

/// Paths outside the repository that documents may name (the shared design notes beside it).
const OUTSIDE: &[&str] = &["../shared/"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file and folder of the repository (relative, `/`-separated), without build output, `.git` and the
/// third-party packages npm installs (`tests/browser/node_modules`: their documents are not ours).
fn tree(root: &Path, at: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(at).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "target" || name == ".git" || name == "node_modules" {
            continue;
        }
        let relative = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            out.insert(format!("{relative}/"));
            tree(root, &path, out);
        } else {
            out.insert(relative);
        }
    }
}

/// The names in backticks of a Markdown text that look like paths of the repository.
fn named_paths(text: &str, top_level: &BTreeSet<String>) -> Vec<String> {
    let mut paths = Vec::new();
    for (i, span) in text.split('`').enumerate() {
        if i % 2 == 0 || span.contains(char::is_whitespace) || span.contains("://") || span.starts_with('/') {
            continue;
        }
        if PLACEHOLDERS.iter().any(|placeholder| span.starts_with(placeholder)) {
            continue;
        }
        // `file.rs::test_name`, `file.rs:42`, `FILE.md#section`: the file.
        let path = span.split("::").next().unwrap_or(span);
        let path = path.split('#').next().unwrap_or(path);
        let path = path.split(':').next().unwrap_or(path);
        if path.is_empty() || path.contains(['*', '{', '<', '$', '…', '|', '(', '=']) || path.contains("...")
        {
            continue;
        }
        let extension = path.rsplit_once('.').map(|(_, extension)| extension);
        let first = path.split('/').next().unwrap_or_default();
        let is_file = extension.is_some_and(|extension| EXTENSIONS.contains(&extension));
        if is_file || (path.contains('/') && top_level.contains(first)) {
            paths.push(path.to_owned());
        }
    }
    paths
}

#[test]
fn every_file_path_the_documentation_names_exists() {
    let root = repo();
    let mut files = BTreeSet::new();
    tree(&root, &root, &mut files);
    let top_level: BTreeSet<String> =
        files.iter().filter_map(|path| path.split('/').next()).map(str::to_owned).collect();
    let documents: Vec<&String> = files.iter().filter(|path| path.ends_with(".md")).collect();
    assert!(documents.iter().any(|path| *path == "README.md"), "README.md is found: {documents:?}");
    let mut missing = Vec::new();
    for document in documents {
        let text = std::fs::read_to_string(root.join(document)).expect("read document");
        let dir = document.rsplit_once('/').map_or("", |(dir, _)| dir);
        for path in named_paths(&text, &top_level) {
            if OUTSIDE.iter().any(|outside| path.starts_with(outside)) {
                continue;
            }
            let wanted = path.trim_start_matches("./").trim_end_matches('/');
            let beside = if dir.is_empty() { wanted.to_owned() } else { format!("{dir}/{wanted}") };
            let found = files.iter().any(|file| {
                let file = file.trim_end_matches('/');
                file == wanted || file == beside || file.ends_with(&format!("/{wanted}"))
            });
            if !found {
                missing.push(format!("{document}: `{path}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths named in the documentation that do not exist:\n  {}",
        missing.join("\n  ")
    );
}
