//! Compile-fail and pass UI tests of `#[experiment]`, and README's Rust examples compiled as a
//! user's crate would compile them. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p chaos-harness --test ui`, then review them.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
    let readme = readme_examples(Path::new(env!("CARGO_TARGET_TMPDIR")));
    assert!(
        readme.len() >= 8,
        "README.md's Rust examples were not found: {readme:?}"
    );
    for file in &readme {
        t.pass(file);
    }
}

/// Writes each ```` ```rust ```` block of the workspace's README.md as a file of its own under
/// `dir` and returns their paths (see [`as_crate`]). Each file has the prelude in scope, as
/// README's snippets assume. Blocks that need the `aws`, `k8s` or `proxy` feature are left out
/// (this binary builds without features, see `scripts/test.sh`); the example crate runs those.
fn readme_examples(dir: &Path) -> Vec<PathBuf> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).expect("README.md is readable");
    let dir = dir.join("readme");
    std::fs::create_dir_all(&dir).expect("create the README examples' directory");
    let mut files = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        if line.trim() != "```rust" {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        let code = block.join("\n");
        if ["aws::", "k8s::", "Proxy::", "Toxic::", "HttpFault::"]
            .iter()
            .any(|needs_a_feature| code.contains(needs_a_feature))
        {
            continue;
        }
        let file = dir.join(format!("readme_line_{}.rs", at + 1));
        std::fs::write(&file, as_crate(&block)).expect("write a README example");
        files.push(file);
    }
    files
}

/// One README block as a test file of a user's crate. Items (and `main!`, so that trybuild's run
/// of the binary runs no experiment) go in a module; statements go in a `main`.
fn as_crate(block: &[&str]) -> String {
    let mut out = String::from("#![allow(unused)]\n");
    if block.iter().any(|l| l.starts_with("let ")) {
        let (uses, body): (Vec<&str>, Vec<&str>) =
            block.iter().partition(|l| l.starts_with("use "));
        out.push_str("use chaos_harness::prelude::*;\n");
        out.push_str(&uses.join("\n"));
        out.push_str("\nfn main() -> Result<(), Box<dyn std::error::Error>> {\n");
        out.push_str(&body.join("\n"));
        out.push_str("\nOk(())\n}\n");
    } else {
        out.push_str("mod readme {\nuse chaos_harness::prelude::*;\n");
        out.push_str(&block.join("\n"));
        out.push_str("\n}\nfn main() {}\n");
    }
    out
}
