//! `list rollouts` and `list experiments` tables (Argo's `cmd/list`).

use chrono::{DateTime, Utc};

use super::tabwriter;
use crate::{
    duration::{age, human_duration, parse_go_duration},
    info::{ExperimentListRow, RolloutListRow},
};

const PADDING: usize = 2;

/// Columns shown before the rollout's own ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListColumns {
    /// `-A`: a NAMESPACE column.
    pub namespace: bool,
    /// `--timestamps`: a TIMESTAMP column (before NAMESPACE).
    pub timestamps: bool,
}

/// The header line of `list rollouts` (tab-separated, not yet aligned).
pub fn rollout_header(columns: ListColumns) -> String {
    let mut header = String::from(
        "NAME\tSTRATEGY\tSTATUS\tSTEP\tSET-WEIGHT\tREADY\tDESIRED\tUP-TO-DATE\tAVAILABLE\n",
    );
    if columns.namespace {
        header.insert_str(0, "NAMESPACE\t");
    }
    if columns.timestamps {
        header.insert_str(0, "TIMESTAMP\t");
    }
    header
}

/// One row of `list rollouts` (tab-separated, cells pre-padded as Argo's format string does).
pub fn rollout_line(row: &RolloutListRow, columns: ListColumns, now: DateTime<Utc>) -> String {
    let step = row.step.map_or_else(|| "-".to_string(), |s| s.to_string());
    let weight = row
        .set_weight
        .map_or_else(|| "-".to_string(), |w| w.to_string());
    let ready = format!("{}/{}", row.ready, row.current);
    let mut line = format!(
        "{:<10}\t{:<9}\t{:<12}\t{:<4}\t{:<10}\t{:<5}\t{:<7}\t{:<10}\t{:<9}\n",
        row.name,
        row.strategy,
        row.status,
        step,
        weight,
        ready,
        row.desired,
        row.up_to_date,
        row.available
    );
    if columns.namespace {
        line.insert_str(0, &format!("{:<9}\t", row.namespace));
    }
    if columns.timestamps {
        let ts = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        line.insert_str(0, &format!("{ts:<20}\t"));
    }
    line
}

/// The whole `list rollouts` table, or `None` when there is nothing to list.
pub fn render_rollouts(
    rows: &[RolloutListRow],
    columns: ListColumns,
    now: DateTime<Utc>,
) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut text = rollout_header(columns);
    for row in rows {
        text.push_str(&rollout_line(row, columns, now));
    }
    Some(tabwriter::align(&text, PADDING))
}

/// Aligns rows printed during `--watch` (each batch is aligned on its own, as Argo flushes).
pub fn align_batch(lines: &str) -> String {
    tabwriter::align(lines, PADDING)
}

/// The whole `list experiments` table, or `None` when there is nothing to list.
pub fn render_experiments(
    rows: &[ExperimentListRow],
    all_namespaces: bool,
    now: DateTime<Utc>,
) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut text = String::new();
    if all_namespaces {
        text.push_str("NAMESPACE\t");
    }
    text.push_str("NAME\tSTATUS\tDURATION\tREMAINING\tAGE\n");
    for row in rows {
        let duration = row
            .duration
            .as_deref()
            .and_then(|d| parse_go_duration(d).ok())
            .map_or_else(|| "-".to_string(), human_duration);
        let remaining = row
            .ends_at
            .map(|end| end - now)
            .filter(|left| *left > chrono::Duration::zero())
            .map_or_else(|| "-".to_string(), human_duration);
        if all_namespaces {
            text.push_str(&format!("{:<9}\t", row.namespace));
        }
        text.push_str(&format!(
            "{:<10}\t{:<6}\t{:<8}\t{:<9}\t{:<3}\n",
            row.name,
            row.status,
            duration,
            remaining,
            age(row.created_at, now)
        ));
    }
    Some(tabwriter::align(&text, PADDING))
}
