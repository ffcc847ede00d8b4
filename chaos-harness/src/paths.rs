//! Where the harness keeps its files on disk, found from the running test binary.

use std::path::{Path, PathBuf};

/// The target directory holding the running test binary (the nearest ancestor with a
/// `CACHEDIR.TAG`), else `CARGO_TARGET_DIR`, else `./target`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .skip(1)
                .find(|d| d.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}
