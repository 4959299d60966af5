//! `get rollout` and `get experiment`: the header block and the resource tree.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{Style, tabwriter};
use crate::{
    duration::{age, human_duration},
    info::{
        AnalysisRunInfo, ExperimentInfo, ImageInfo, JobInfo, ReplicaSetInfo, RevisionInfo,
        RolloutInfo, analysis_icon, icons, pod::pod_icon, replica_set_icon, rollout_icon, tags,
    },
};

pub const ICON_ROLLOUT: &str = "⟳";
pub const ICON_REVISION: &str = "#";
pub const ICON_REPLICA_SET: &str = "⧉";
pub const ICON_POD: &str = "□";
pub const ICON_JOB: &str = "⊞";
pub const ICON_EXPERIMENT: &str = "Σ";
pub const ICON_ANALYSIS: &str = "α";

/// Padding between tree columns.
const TREE_PADDING: usize = 2;

/// A header line: the label left-aligned in 17 columns (`%-17s%v`).
fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{label:<17}{value}");
}

/// The whole `get rollout` output.
pub fn render_rollout(info: &RolloutInfo, now: DateTime<Utc>, style: Style) -> String {
    let mut out = String::new();
    field(&mut out, "Name:", &info.name);
    field(&mut out, "Namespace:", &info.namespace);
    field(
        &mut out,
        "Status:",
        format!(
            "{} {}",
            style.colorize(rollout_icon(&info.status)),
            info.status
        ),
    );
    if !info.message.is_empty() {
        field(&mut out, "Message:", &info.message);
    }
    field(&mut out, "Strategy:", &info.strategy);
    if info.strategy == "Canary" {
        field(
            &mut out,
            "  Step:",
            info.step.map(|s| s.to_string()).unwrap_or_default(),
        );
        field(&mut out, "  SetWeight:", info.set_weight.unwrap_or(0));
        field(&mut out, "  ActualWeight:", info.actual_weight.unwrap_or(0));
    }
    images(&mut out, &info.images, style);
    out.push_str("Replicas:\n");
    let r = &info.replicas;
    field(&mut out, "  Desired:", r.desired);
    field(&mut out, "  Current:", r.current);
    field(&mut out, "  Updated:", r.updated);
    field(&mut out, "  Ready:", r.ready);
    field(&mut out, "  Available:", r.available);
    out.push('\n');
    out.push_str(&rollout_tree(info, now, style));
    out
}

/// The `get experiment` output.
pub fn render_experiment(info: &ExperimentInfo, now: DateTime<Utc>, style: Style) -> String {
    let mut out = String::new();
    field(&mut out, "Name:", &info.name);
    field(&mut out, "Namespace:", &info.namespace);
    field(
        &mut out,
        "Status:",
        format!(
            "{} {}",
            style.colorize(analysis_icon(&info.status)),
            info.status
        ),
    );
    if let Some(message) = &info.message {
        field(&mut out, "Message:", message);
    }
    images(&mut out, &info.images, style);
    out.push('\n');
    let mut tree = Tree {
        now,
        style,
        text: String::new(),
    };
    tree.header();
    tree.experiment(info, "", "");
    out.push_str(&tabwriter::align(&tree.text, TREE_PADDING));
    out
}

fn images(out: &mut String, images: &[ImageInfo], style: Style) {
    for (i, image) in images.iter().enumerate() {
        let label = if i == 0 { "Images:" } else { "" };
        let text = if image.tags.is_empty() {
            image.image.clone()
        } else {
            let tags: Vec<String> = image.tags.iter().map(|t| style.colorize(t)).collect();
            format!("{} ({})", image.image, tags.join(", "))
        };
        field(out, label, text);
    }
}

/// The tab-aligned resource tree of a rollout.
pub fn rollout_tree(info: &RolloutInfo, now: DateTime<Utc>, style: Style) -> String {
    let mut tree = Tree {
        now,
        style,
        text: String::new(),
    };
    tree.header();
    tree.row(
        &format!("{ICON_ROLLOUT} {}", info.name),
        "Rollout",
        rollout_icon(&info.status),
        &info.status,
        &age(info.created_at, now),
        "",
    );
    for (i, rev) in info.revisions.iter().enumerate() {
        let (prefix, subprefix) = prefixes(i + 1 == info.revisions.len(), "");
        tree.revision(rev, &prefix, &subprefix);
    }
    tabwriter::align(&tree.text, TREE_PADDING)
}

/// The branch drawn before an element and the indentation of its children.
fn prefixes(is_last: bool, subprefix: &str) -> (String, String) {
    if is_last {
        (format!("{subprefix}└──"), format!("{subprefix}   "))
    } else {
        (format!("{subprefix}├──"), format!("{subprefix}│  "))
    }
}

struct Tree {
    now: DateTime<Utc>,
    style: Style,
    text: String,
}

impl Tree {
    fn header(&mut self) {
        self.text.push_str("NAME\tKIND\tSTATUS\tAGE\tINFO\n");
    }

    fn row(&mut self, name: &str, kind: &str, icon: &str, status: &str, age: &str, info: &str) {
        let icon = self.style.colorize(icon);
        let _ = writeln!(self.text, "{name}\t{kind}\t{icon} {status}\t{age}\t{info}");
    }

    fn revision(&mut self, rev: &RevisionInfo, prefix: &str, subprefix: &str) {
        let _ = writeln!(
            self.text,
            "{prefix}{ICON_REVISION} revision:{}\t\t \t\t",
            rev.revision
        );
        let total = rev.replica_sets.len() + rev.experiments.len() + rev.analysis_runs.len();
        let mut current = 0;
        let next = |current: &mut usize| {
            *current += 1;
            prefixes(*current == total, subprefix)
        };
        for rs in &rev.replica_sets {
            let (p, s) = next(&mut current);
            self.replica_set(rs, &p, &s);
        }
        for exp in &rev.experiments {
            let (p, s) = next(&mut current);
            self.experiment(exp, &p, &s);
        }
        for run in &rev.analysis_runs {
            let (p, s) = next(&mut current);
            self.analysis_run(run, &p, &s);
        }
    }

    fn replica_set(&mut self, rs: &ReplicaSetInfo, prefix: &str, subprefix: &str) {
        let style = self.style;
        let mut info: Vec<String> = Vec::new();
        let mut name = rs.name.clone();
        let mut tag = |on: bool, tag: &str, info: &mut Vec<String>| {
            if on {
                info.push(style.colorize(tag));
                name = style.colorize_as(&name, tag);
            }
        };
        tag(rs.stable, tags::STABLE, &mut info);
        if rs.canary {
            tag(true, tags::CANARY, &mut info);
        } else if rs.active {
            tag(true, tags::ACTIVE, &mut info);
        } else if rs.preview {
            tag(true, tags::PREVIEW, &mut info);
        }
        tag(rs.ping, tags::PING, &mut info);
        tag(rs.pong, tags::PONG, &mut info);
        if let Some(deadline) = &rs.scale_down_deadline {
            info.push(format!("delay:{}", scale_down_delay(deadline, self.now)));
        }
        self.row(
            &format!("{prefix}{ICON_REPLICA_SET} {name}"),
            "ReplicaSet",
            replica_set_icon(&rs.status),
            &rs.status,
            &age(rs.created_at, self.now),
            &info.join(","),
        );
        for (i, pod) in rs.pods.iter().enumerate() {
            let (pod_prefix, _) = prefixes(i + 1 == rs.pods.len(), subprefix);
            let mut info = format!("ready:{}/{}", pod.ready_containers, pod.total_containers);
            if pod.restarts > 0 {
                let _ = write!(info, ",restarts:{}", pod.restarts);
            }
            self.row(
                &format!("{pod_prefix}{ICON_POD} {}", pod.name),
                "Pod",
                pod_icon(&pod.status),
                &pod.status,
                &age(pod.created_at, self.now),
                &info,
            );
        }
    }

    fn experiment(&mut self, exp: &ExperimentInfo, prefix: &str, subprefix: &str) {
        let name = self.style.colorize_as(&exp.name, &exp.status);
        self.row(
            &format!("{prefix}{ICON_EXPERIMENT} {name}"),
            "Experiment",
            analysis_icon(&exp.status),
            &exp.status,
            &age(exp.created_at, self.now),
            "",
        );
        let total = exp.replica_sets.len() + exp.analysis_runs.len();
        let mut current = 0;
        for rs in &exp.replica_sets {
            current += 1;
            let (p, s) = prefixes(current == total, subprefix);
            self.replica_set(rs, &p, &s);
        }
        for run in &exp.analysis_runs {
            current += 1;
            let (p, s) = prefixes(current == total, subprefix);
            self.analysis_run(run, &p, &s);
        }
    }

    fn analysis_run(&mut self, run: &AnalysisRunInfo, prefix: &str, subprefix: &str) {
        let style = self.style;
        let name = style.colorize_as(&run.name, &run.status);
        let counts = [
            (run.successful, icons::OK),
            (run.failed, icons::BAD),
            (run.inconclusive, icons::UNKNOWN),
            (run.error, icons::WARNING),
        ];
        let info: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, icon)| format!("{} {n}", style.colorize(icon)))
            .collect();
        self.row(
            &format!("{prefix}{ICON_ANALYSIS} {name}"),
            "AnalysisRun",
            analysis_icon(&run.status),
            &run.status,
            &age(run.created_at, self.now),
            &info.join(","),
        );
        for (i, job) in run.jobs.iter().enumerate() {
            let (job_prefix, _) = prefixes(i + 1 == run.jobs.len(), subprefix);
            self.job(job, &job_prefix);
        }
    }

    fn job(&mut self, job: &JobInfo, prefix: &str) {
        let name = self.style.colorize_as(&job.name, &job.status);
        self.row(
            &format!("{prefix}{ICON_JOB} {name}"),
            "Job",
            analysis_icon(&job.status),
            &job.status,
            &age(job.started_at, self.now),
            "",
        );
    }
}

/// Time left before a ReplicaSet is scaled down (`passed` once due, `""` when unparsable).
pub fn scale_down_delay(deadline: &str, now: DateTime<Utc>) -> String {
    match DateTime::parse_from_rfc3339(deadline) {
        Ok(deadline) => {
            let deadline = deadline.with_timezone(&Utc);
            if deadline < now {
                "passed".into()
            } else {
                human_duration(deadline - now)
            }
        }
        Err(_) => String::new(),
    }
}
