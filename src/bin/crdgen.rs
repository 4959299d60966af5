//! Writes the CRDs into `crds/` (or the directory given as the first argument).

use std::{fs, path::PathBuf};

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "crds".into()));
    fs::create_dir_all(&dir)?;
    for (name, yaml) in rollouts::crd::rendered_crds() {
        let path = dir.join(name);
        fs::write(&path, yaml)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
