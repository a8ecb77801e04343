//! The house's layout, pinned: which of our crates may depend on which (read from `cargo metadata`), what
//! external crates each may not pull in, and that no module of a crate imports another in a circle (read
//! from the `use crate::`/`super::` paths of its `src/`). A failure names the offending edge or circle.
//!
//! A new crate of the workspace must be added to [`ALLOWED`] with the edges it may have.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Our crates and the crates of ours each may depend on (normal and build dependencies; dev-dependencies
/// are free). `None`: any.
const ALLOWED: &[(&str, Option<&[&str]>)] = &[
    ("domain", Some(&[])),
    ("ledger-proto", Some(&["domain"])),
    ("store", Some(&["ledger-proto"])),
    ("projections", Some(&["domain", "ledger-proto"])),
    ("engine", Some(&["domain", "ledger-proto", "store", "projections", "tlog"])),
    ("api", Some(&["domain", "ledger-proto", "store", "projections", "engine", "tlog"])),
    ("bench", Some(&["domain", "ledger-proto", "store", "projections", "engine", "api", "tlog"])),
    ("e2e", None),
    ("tlog", Some(&[])),
    ("lazyfs", Some(&[])),
];

/// External crates that may not be anywhere in a crate's tree of normal dependencies.
const FORBIDDEN_IN_TREE: &[(&str, &[&str])] = &[
    ("domain", &["tokio", "prost", "axum", "tokio-postgres", "postgres", "kurrentdb", "refinery"]),
    ("ledger-proto", &["tokio-postgres", "refinery", "mio"]),
    ("tlog", &["tokio", "mio", "prost", "axum", "hyper", "tokio-postgres", "reqwest"]),
    (
        "engine",
        &[
            "axum",
            "hyper",
            "hyper-util",
            "tower",
            "tower-http",
            "utoipa",
            "reqwest",
            "jsonwebtoken",
            "metrics-exporter-prometheus",
        ],
    ),
];

/// External crates that may not be direct normal dependencies of a crate (the benchmark's, kept in `bench`).
const FORBIDDEN_DIRECT: &[(&str, &[&str])] = &[("api", &["reqwest", "tokio-postgres"])];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(repo())
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("cargo metadata answers JSON")
}

/// A normal or build dependency (not a dev-dependency).
fn counts(dependency: &Value) -> bool {
    dependency["kind"].as_str() != Some("dev")
}

#[test]
fn our_crates_depend_only_along_the_allowed_edges() {
    let metadata = metadata();
    let members: BTreeSet<&str> =
        metadata["workspace_members"].as_array().expect("members").iter().filter_map(Value::as_str).collect();
    let packages = metadata["packages"].as_array().expect("packages");
    let ours: BTreeMap<&str, &Value> = packages
        .iter()
        .filter(|package| package["id"].as_str().is_some_and(|id| members.contains(id)))
        .filter_map(|package| Some((package["name"].as_str()?, package)))
        .collect();
    let allowed: BTreeMap<&str, Option<&[&str]>> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (&name, package) in &ours {
        let Some(&may) = allowed.get(name) else {
            wrong.push(format!("{name}: a crate of the workspace with no pinned edges (add it to ALLOWED)"));
            continue;
        };
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let Some(to) = dependency["name"].as_str() else { continue };
            if !counts(dependency) {
                continue;
            }
            if ours.contains_key(to) && may.is_some_and(|may| !may.contains(&to)) {
                wrong.push(format!("{name} -> {to}: not an allowed edge (allowed: {may:?})"));
            }
            let forbidden = FORBIDDEN_DIRECT.iter().find(|(crate_name, _)| *crate_name == name);
            if forbidden.is_some_and(|(_, names)| names.contains(&to)) {
                wrong.push(format!("{name} -> {to}: a direct dependency {name} may not have"));
            }
        }
    }
    assert!(wrong.is_empty(), "crate edges off the pinned layout:\n  {}", wrong.join("\n  "));
}

#[test]
fn forbidden_crates_are_not_in_the_trees_of_the_lower_crates() {
    let metadata = metadata();
    let nodes = metadata["resolve"]["nodes"].as_array().expect("resolve nodes");
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|package| Some((package["id"].as_str()?, package["name"].as_str()?)))
        .collect();
    // Normal and build edges of the resolved graph (features as the workspace resolves them).
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in nodes {
        let Some(id) = node["id"].as_str() else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|kind| kind["kind"].as_str() != Some("dev"));
            if let (true, Some(to)) = (normal, dep["pkg"].as_str()) {
                edges.entry(id).or_default().push(to);
            }
        }
    }
    let mut wrong = Vec::new();
    for (crate_name, forbidden) in FORBIDDEN_IN_TREE {
        let Some((&root, _)) = names.iter().find(|(id, name)| {
            **name == *crate_name
                && metadata["workspace_members"].as_array().is_some_and(|m| m.iter().any(|m| m == *id))
        }) else {
            continue; // not (yet) a crate of the workspace
        };
        // Breadth-first, remembering how each crate was reached, to name the path.
        let mut via: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([root]);
        while let Some(id) = queue.pop_front() {
            for &to in edges.get(id).into_iter().flatten() {
                if to != root && !via.contains_key(to) {
                    via.insert(to, id);
                    queue.push_back(to);
                }
            }
        }
        for &id in via.keys() {
            let name = names.get(id).copied().unwrap_or(id);
            if forbidden.contains(&name) {
                let mut path = vec![name];
                let mut at = id;
                while let Some(&from) = via.get(at) {
                    path.push(names.get(from).copied().unwrap_or(from));
                    at = from;
                }
                path.reverse();
                wrong.push(format!("{crate_name} pulls in {name}: {}", path.join(" -> ")));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden crates in the dependency trees:\n  {}", wrong.join("\n  "));
}

/// The module a source file is (`a::b` for `src/a/b.rs` or `src/a/b/mod.rs`; empty for the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> =
        relative.iter().map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if parts.last().is_some_and(|last| last == "mod" || last == "lib" || last == "main") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Each file of src/bin is a crate of its own (it imports the library by name, not `crate::`).
            if path.file_name().is_some_and(|name| name != "bin") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and string literals (so paths in docs and messages do not count).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The modules of the crate a file's `crate::` and `super::` paths name, outside its `#[cfg(test)]` modules
/// (`super::` of an inline module is resolved from that module).
fn imports(module: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    // The inline modules open at each point: (name, brace depth at which it closes, is a test module).
    let mut inline: Vec<(String, usize, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut test_attribute = false;
    let code = code.replace("#[cfg(test)]", " __cfg_test__ ");
    let tokens: Vec<&str> = code
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',' || c == '(' || c == ')')
        .filter(|token| !token.is_empty())
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token == "__cfg_test__" {
            test_attribute = true;
        }
        let next = tokens.get(i + 1).copied().unwrap_or_default();
        let after = tokens.get(i + 2).copied().unwrap_or_default();
        if token == "mod" && (next.ends_with('{') || after == "{") {
            let name = next.trim_end_matches('{').to_owned();
            depth += 1;
            inline.push((name, depth, test_attribute));
            test_attribute = false;
            i += if next.ends_with('{') { 2 } else { 3 };
            continue;
        }
        if token == "mod" {
            test_attribute = false;
        }
        for c in token.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    if inline.last().is_some_and(|(_, closes, _)| *closes == depth) {
                        inline.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
        }
        if inline.iter().any(|(_, _, test)| *test) {
            i += 1;
            continue;
        }
        for start in ["crate::", "super::"] {
            let mut rest = token;
            while let Some(at) = rest.find(start) {
                let before = &rest[..at];
                let path = &rest[at..];
                rest = &rest[at + start.len()..];
                if before.ends_with('$') || before.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                // The module this path starts from.
                let mut base: Vec<String> =
                    module.split("::").filter(|part| !part.is_empty()).map(str::to_owned).collect();
                base.extend(inline.iter().map(|(name, _, _)| name.clone()));
                let mut segments: Vec<&str> = path.split("::").collect();
                if segments.first() == Some(&"crate") {
                    base.clear();
                    segments.remove(0);
                } else {
                    // `super` of module a::b (file a/b.rs or a/b/mod.rs) is a.
                    while segments.first() == Some(&"super") {
                        segments.remove(0);
                        base.pop();
                    }
                }
                let mut best = base.join("::");
                let mut candidate = base.clone();
                for segment in segments {
                    let name: String =
                        segment.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if name.is_empty() {
                        break;
                    }
                    candidate.push(name);
                    let joined = candidate.join("::");
                    if modules.contains(&joined) {
                        best = joined;
                    } else {
                        break;
                    }
                }
                // Inline modules belong to their file: resolve to the longest file module.
                while !modules.contains(&best) && best.contains("::") {
                    best = best.rsplit_once("::").map(|(head, _)| head.to_owned()).unwrap_or_default();
                }
                if modules.contains(&best) {
                    found.insert(best);
                }
            }
        }
        i += 1;
    }
    found.remove(module);
    found
}

/// The circles of module imports of the crate whose `src/` is `src`, each as `a.rs -> b.rs -> a.rs`.
fn circles(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let by_module: BTreeMap<String, PathBuf> =
        files.iter().map(|file| (module_of(src, file), file.clone())).collect();
    let modules: BTreeSet<String> = by_module.keys().cloned().collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &by_module {
        let text = std::fs::read_to_string(file).expect("read source");
        graph.insert(module.clone(), imports(module, &code_only(&text), &modules));
    }
    let show = |module: &str| {
        by_module
            .get(module)
            .and_then(|file| file.strip_prefix(src).ok())
            .map_or_else(|| module.to_owned(), |file| file.display().to_string())
    };
    // Each strongly connected set of more than one module is a circle; name one cycle through it.
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for start in graph.keys() {
        if seen.contains(start) {
            continue;
        }
        // The shortest path from `start` back to itself (breadth-first), if any.
        let mut via: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.as_str()]);
        let mut closed = None;
        while let Some(at) = queue.pop_front() {
            for next in graph.get(at).into_iter().flatten() {
                if next == start {
                    closed = Some(at);
                    break;
                }
                if !via.contains_key(next.as_str()) {
                    via.insert(next, at);
                    queue.push_back(next);
                }
            }
            if closed.is_some() {
                break;
            }
        }
        if let Some(end) = closed {
            let mut cycle = vec![end];
            let mut at = end;
            while at != start {
                at = via[at];
                cycle.push(at);
            }
            cycle.reverse();
            cycle.push(start);
            seen.extend(cycle.iter().map(|module| (*module).to_owned()));
            found.push(cycle.iter().map(|module| show(module)).collect::<Vec<_>>().join(" -> "));
        }
    }
    found
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let repo = repo();
    let mut wrong = Vec::new();
    for (name, _) in ALLOWED {
        let dir = match *name {
            "ledger-proto" => "proto",
            "e2e" => "tests",
            "lazyfs" => "tests/lazyfs",
            other => other,
        };
        let src = repo.join(dir).join("src");
        if !src.is_dir() {
            continue; // not (yet) a crate of the workspace
        }
        for circle in circles(&src) {
            wrong.push(format!("{dir}: {circle}"));
        }
    }
    assert!(wrong.is_empty(), "modules importing each other in a circle:\n  {}", wrong.join("\n  "));
}
