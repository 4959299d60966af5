//! `status ROLLOUT`: what to print and how to exit (Argo's `cmd/status`). Pure; the command
//! feeds it the phases it observes.

use serde::Serialize;

/// Why a `status --watch` stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// The rollout reached `Healthy` or `Degraded`.
    Terminal,
    /// `--timeout` elapsed.
    Timeout,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// Exit code when the rollout is Healthy, or for `--watch=false` in any phase but Degraded.
pub const EXIT_OK: i32 = 0;
/// Exit code when the rollout is Degraded, the watch timed out or was interrupted, or any
/// other error (the same code as Argo's plugin for all of them).
pub const EXIT_FAILED: i32 = 1;

/// A line of `status` output in `-o json|yaml`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub schema_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub status: String,
    pub message: String,
    /// `Healthy` or `Degraded`: the watch is over.
    pub done: bool,
}

/// Ends the watch.
pub fn is_terminal(phase: &str) -> bool {
    phase == "Healthy" || phase == "Degraded"
}

/// The line printed on every change while watching: `Phase` or `Phase - message`.
pub fn watch_line(phase: &str, message: &str) -> String {
    if message.is_empty() {
        phase.to_string()
    } else {
        format!("{phase} - {message}")
    }
}

/// Prints and de-duplicates watch lines (Argo prints a line only when it changes).
#[derive(Debug, Default)]
pub struct WatchPrinter {
    previous: Option<String>,
}

impl WatchPrinter {
    /// The line to print for this observation, if it differs from the previous one.
    pub fn observe(&mut self, phase: &str, message: &str) -> Option<String> {
        let line = watch_line(phase, message);
        if self.previous.as_deref() == Some(line.as_str()) {
            return None;
        }
        self.previous = Some(line.clone());
        Some(line)
    }
}

/// The single line of `--watch=false`: the bare phase for Healthy and Degraded, else
/// `Phase - message` (even with an empty message, as Argo prints it).
pub fn no_watch_line(phase: &str, message: &str) -> String {
    if is_terminal(phase) {
        phase.to_string()
    } else {
        format!("{phase} - {message}")
    }
}

/// The result of the command from the last observed phase: `Ok` to exit 0, else the error line
/// and exit code.
pub fn outcome(
    watch: bool,
    end: WatchEnd,
    phase: &str,
    message: &str,
) -> Result<(), (String, i32)> {
    if phase == "Degraded" {
        return Err((
            format!("The rollout is in a degraded state with message: {message}"),
            EXIT_FAILED,
        ));
    }
    if watch && phase != "Healthy" {
        let text = match end {
            WatchEnd::Interrupted => "Rollout status watch interrupted",
            WatchEnd::Timeout | WatchEnd::Terminal => "Rollout status watch exceeded timeout",
        };
        return Err((text.to_string(), EXIT_FAILED));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_prints_each_change_once() {
        let mut p = WatchPrinter::default();
        assert_eq!(
            p.observe("Progressing", "more replicas need to be updated"),
            Some("Progressing - more replicas need to be updated".into())
        );
        assert_eq!(
            p.observe("Progressing", "more replicas need to be updated"),
            None
        );
        assert_eq!(
            p.observe("Paused", "CanaryPauseStep"),
            Some("Paused - CanaryPauseStep".into())
        );
        assert_eq!(p.observe("Healthy", ""), Some("Healthy".into()));
        assert!(is_terminal("Healthy") && is_terminal("Degraded"));
        assert!(!is_terminal("Paused") && !is_terminal("Progressing"));
    }

    #[test]
    fn no_watch_line_formats() {
        assert_eq!(no_watch_line("Healthy", ""), "Healthy");
        assert_eq!(no_watch_line("Degraded", "RolloutAborted: x"), "Degraded");
        assert_eq!(
            no_watch_line("Paused", "CanaryPauseStep"),
            "Paused - CanaryPauseStep"
        );
        assert_eq!(no_watch_line("Progressing", ""), "Progressing - ");
    }

    #[test]
    fn exit_logic() {
        assert_eq!(outcome(true, WatchEnd::Terminal, "Healthy", ""), Ok(()));
        assert_eq!(
            outcome(
                true,
                WatchEnd::Terminal,
                "Degraded",
                "RolloutAborted: aborted"
            ),
            Err((
                "The rollout is in a degraded state with message: RolloutAborted: aborted".into(),
                EXIT_FAILED
            ))
        );
        assert_eq!(
            outcome(true, WatchEnd::Timeout, "Paused", "CanaryPauseStep"),
            Err(("Rollout status watch exceeded timeout".into(), EXIT_FAILED))
        );
        assert_eq!(
            outcome(true, WatchEnd::Interrupted, "Progressing", ""),
            Err(("Rollout status watch interrupted".into(), EXIT_FAILED))
        );
        // Without --watch only Degraded fails.
        assert_eq!(outcome(false, WatchEnd::Terminal, "Paused", "x"), Ok(()));
        assert_eq!(
            outcome(false, WatchEnd::Terminal, "Degraded", "x")
                .unwrap_err()
                .1,
            EXIT_FAILED
        );
    }
}
