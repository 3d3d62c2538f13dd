//! Where things live: the repository root and the git-ignored `.local/` folder.

use std::path::PathBuf;

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

pub fn local_dir() -> PathBuf {
    root().join(".local")
}

pub fn template() -> PathBuf {
    root().join("template.yaml")
}

pub fn dynamodb_emulator() -> PathBuf {
    local_dir().join("dynamodb/node_modules/amplify-dynamodb-simulator/emulator")
}

pub fn moto_server() -> PathBuf {
    local_dir().join("venv/bin/moto_server")
}

pub fn install_script() -> PathBuf {
    root().join("infra/scripts/install.sh")
}
