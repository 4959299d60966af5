//! The kubectl plugin of Argo Rollouts (`kubectl argo rollouts …`), wire-compatible with
//! v1.9.1: same commands, flags, patches and output.
//!
//! Layout: pure parts first, I/O last.
//! - [`info`]: the view model (objects → display model; also the `-o json|yaml` schema).
//! - [`render`]: the text renderers (header block, tree, tables) over the view model.
//! - [`patches`], [`undo`], [`status`], [`explain`], [`lint`], [`manifest`]: the decisions of
//!   each command, as pure functions.
//! - [`cli`], [`kubeconfig`], [`commands`]: argument parsing, cluster access and the commands.

pub mod cli;
pub mod commands;
pub mod completion;
pub mod duration;
pub mod error;
pub mod explain;
pub mod info;
pub mod kubeconfig;
pub mod lint;
pub mod manifest;
pub mod patches;
pub mod render;
pub mod status;
#[cfg(test)]
mod testing;
pub mod undo;

use std::ffi::OsString;

use clap::Parser;

/// Runs the plugin with `args` (the program name first) and returns the exit code.
///
/// Every failure ends as one `Error: …` line on stderr and a non-zero code; a panic is turned
/// into such a line too, never a stack trace.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        eprintln!("Error: internal error: {}", error::one_line(&message));
    }));
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return error::clap_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(commands::run(cli))
    }));
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("Error: {}", error::describe(&e));
            1
        }
        Err(_) => 1,
    }
}
