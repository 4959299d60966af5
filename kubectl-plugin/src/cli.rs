//! Command line: every command and flag of Argo's plugin, plus `explain` and `-o json|yaml`.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::kubeconfig::KubeFlags;

pub const CLI_NAME: &str = "kubectl argo rollouts";

const EXAMPLES: &str = "Examples:
  # Get guestbook rollout and watch progress
  kubectl argo rollouts get rollout guestbook -w

  # Pause the guestbook rollout
  kubectl argo rollouts pause guestbook

  # Promote the guestbook rollout
  kubectl argo rollouts promote guestbook

  # Abort the guestbook rollout
  kubectl argo rollouts abort guestbook

  # Retry the guestbook rollout
  kubectl argo rollouts retry rollout guestbook

  # Explain why the guestbook rollout does not progress
  kubectl argo rollouts explain guestbook";

/// Manage argo rollouts
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-argo-rollouts",
    bin_name = "kubectl-argo-rollouts",
    about = "Manage argo rollouts",
    long_about = "This command consists of multiple subcommands which can be used to manage Argo Rollouts.",
    after_help = EXAMPLES,
    disable_version_flag = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeFlags,
    /// Log level for kubernetes client library
    #[arg(short = 'v', long = "kloglevel", global = true, default_value_t = 0)]
    pub kloglevel: i32,
    /// Log level for kubectl argo rollouts
    #[arg(long, global = true, default_value = "info")]
    pub loglevel: String,
    #[command(subcommand)]
    pub command: Command,
}

/// Go's `strconv.ParseBool`, for flags written `--watch=false` as pflag allows.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// `-o/--output`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Abort a rollout
    #[command(
        long_about = "This command stops progressing the current rollout and reverts all steps. The previous ReplicaSet will be active.\n\nNote the 'spec.template' still represents the new rollout version. If the Rollout leaves the aborted state, it will try to go to the new version.\nUpdating the 'spec.template' back to the previous version will fully revert the rollout.",
        after_help = "Examples:\n  # Abort a rollout\n  kubectl argo rollouts abort guestbook"
    )]
    Abort {
        #[arg(value_name = "ROLLOUT_NAME", required = true)]
        names: Vec<String>,
    },
    /// Generate completion script
    Completion {
        #[arg(value_enum)]
        shell: crate::completion::Shell,
    },
    /// Create a Rollout, Experiment, AnalysisTemplate, ClusterAnalysisTemplate, or AnalysisRun resource
    #[command(
        long_about = "This command creates a new Rollout, Experiment, AnalysisTemplate, ClusterAnalysisTemplate, or AnalysisRun resource from a file.",
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  # Create an experiment and watch it\n  kubectl argo rollouts create -f my-experiment.yaml -w"
    )]
    Create(CreateArgs),
    /// Explain why a rollout is not progressing and what moves it on
    Explain {
        #[arg(value_name = "ROLLOUT_NAME")]
        name: String,
        /// Output format: json or yaml (default: text)
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
    /// Get details about rollouts and experiments
    #[command(
        subcommand,
        long_about = "This command consists of multiple subcommands which can be used to get extended information about a rollout or experiment."
    )]
    Get(GetCommand),
    /// Lint and validate a Rollout
    #[command(
        long_about = "This command lints and validates a new Rollout resource from a file.",
        after_help = "Examples:\n  # Lint a rollout\n  kubectl argo rollouts lint -f my-rollout.yaml"
    )]
    Lint {
        /// File to lint
        #[arg(short = 'f', long = "filename", required = true)]
        filename: String,
    },
    /// List rollouts or experiments
    #[command(subcommand)]
    List(ListCommand),
    /// Pause a rollout
    #[command(long_about = "Set the rollout paused state to 'true'")]
    Pause {
        #[arg(value_name = "ROLLOUT_NAME", required = true)]
        names: Vec<String>,
    },
    /// Promote a rollout
    #[command(
        long_about = "Promote a rollout\n\nPromotes a rollout paused at a canary step, or a paused blue-green pre-promotion.\nTo skip analysis, pauses and steps entirely, use '--full' to fully promote the rollout",
        after_help = "Examples:\n  # Promote a paused rollout\n  kubectl argo rollouts promote guestbook\n\n  # Fully promote a rollout to desired version, skipping analysis, pauses, and steps\n  kubectl argo rollouts promote guestbook --full"
    )]
    Promote {
        #[arg(value_name = "ROLLOUT_NAME")]
        name: String,
        /// Perform a full promotion, skipping analysis, pauses, and steps
        #[arg(long)]
        full: bool,
        /// Skip currently running canary step (deprecated: use without the flag)
        #[arg(short = 'c', long = "skip-current-step", hide = true)]
        skip_current_step: bool,
        /// Skip remaining steps (deprecated: use --full)
        #[arg(short = 'a', long = "skip-all-steps", hide = true)]
        skip_all_steps: bool,
    },
    /// Restart the pods of a rollout
    #[command(
        after_help = "Examples:\n  # Restart the pods of a rollout in now\n  kubectl argo rollouts restart ROLLOUT_NAME\n\n  # Restart the pods of a rollout in ten seconds\n  kubectl argo rollouts restart ROLLOUT_NAME --in 10s"
    )]
    Restart {
        #[arg(value_name = "ROLLOUT")]
        name: String,
        /// Amount of time before a restart. (e.g. 30s, 5m, 1h)
        #[arg(short = 'i', long = "in")]
        in_: Option<String>,
    },
    /// Retry a rollout or experiment
    #[command(
        subcommand,
        long_about = "This command consists of multiple subcommands which can be used to restart an aborted rollout or a failed experiment."
    )]
    Retry(RetryCommand),
    /// Set various values on resources
    #[command(subcommand)]
    Set(SetCommand),
    /// Show the status of a rollout
    #[command(
        long_about = "Watch rollout until it finishes or the timeout is exceeded. Returns success if\nthe rollout is healthy upon completion and an error otherwise.",
        after_help = "Examples:\n  # Watch the rollout until it succeeds\n  kubectl argo rollouts status guestbook\n\n  # Show the rollout status\n  kubectl argo rollouts status guestbook --watch=false\n\n  # Watch the rollout until it succeeds, fail if it takes more than 60 seconds\n  kubectl argo rollouts status --timeout 60s guestbook\n\nExit status: 0 when Healthy (or, with --watch=false, anything but Degraded); 1 when Degraded, on timeout, on interrupt, or on any error."
    )]
    Status {
        #[arg(value_name = "ROLLOUT_NAME")]
        name: String,
        /// Watch the status of the rollout until it's done
        #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_value = "true",
              default_missing_value = "true", action = ArgAction::Set, value_parser = parse_go_bool)]
        watch: bool,
        /// The length of time to watch before giving up. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). Zero means wait forever
        #[arg(short = 't', long, default_value = "0s")]
        timeout: String,
        /// Output format: json or yaml (default: text)
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
    /// Terminate an AnalysisRun or Experiment
    #[command(
        subcommand,
        long_about = "This command consists of multiple subcommands which can be used to terminate an AnalysisRun or Experiment that is in progress."
    )]
    Terminate(TerminateCommand),
    /// Undo a rollout
    #[command(
        long_about = "Rollback to the previous rollout.",
        after_help = "Examples:\n  # Undo a rollout\n  kubectl argo rollouts undo guestbook\n\n  # Undo a rollout to revision 3\n  kubectl argo rollouts undo guestbook --to-revision=3"
    )]
    Undo {
        #[arg(value_name = "ROLLOUT_NAME")]
        name: String,
        /// The revision to rollback to. Default to 0 (last revision).
        #[arg(long = "to-revision", default_value_t = 0)]
        to_revision: i64,
    },
    /// Print version
    #[command(long_about = "Show the version and build information of the Argo Rollouts plugin.")]
    Version {
        /// print just the version number
        #[arg(long)]
        short: bool,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Files to use to create the resource
    #[arg(short = 'f', long = "filename")]
    pub files: Vec<String>,
    /// Watch live updates to the resource after creating
    #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", action = ArgAction::Set, value_parser = parse_go_bool)]
    pub watch: bool,
    /// Do not colorize output
    #[arg(long = "no-color")]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Option<CreateCommand>,
}

#[derive(Subcommand, Debug)]
pub enum CreateCommand {
    /// Create an AnalysisRun from an AnalysisTemplate or a ClusterAnalysisTemplate
    #[command(visible_alias = "ar")]
    Analysisrun(CreateAnalysisRunArgs),
}

#[derive(Args, Debug)]
pub struct CreateAnalysisRunArgs {
    /// Use the specified name for the run
    #[arg(long)]
    pub name: Option<String>,
    /// Use the specified generateName for the run
    #[arg(long = "generate-name")]
    pub generate_name: Option<String>,
    /// Instance-ID for the AnalysisRun
    #[arg(long = "instance-id")]
    pub instance_id: Option<String>,
    /// Arguments to the parameter template
    #[arg(short = 'a', long = "argument")]
    pub arguments: Vec<String>,
    /// Create an AnalysisRun from an AnalysisTemplate or ClusterAnalysisTemplate in the cluster
    #[arg(long)]
    pub from: Option<String>,
    /// Create an AnalysisRun from an AnalysisTemplate or ClusterAnalysisTemplate in a local file
    #[arg(long = "from-file")]
    pub from_file: Option<String>,
    /// Use a ClusterAnalysisTemplate instead of a AnalysisTemplate
    #[arg(long)]
    pub global: bool,
}

#[derive(Subcommand, Debug)]
pub enum GetCommand {
    /// Get details about a rollout
    #[command(visible_aliases = ["ro", "rollouts"])]
    Rollout(GetRolloutArgs),
    /// Get details about an Experiment
    #[command(visible_aliases = ["exp", "experiments"])]
    Experiment(GetExperimentArgs),
}

#[derive(Args, Debug)]
pub struct GetRolloutArgs {
    #[arg(value_name = "ROLLOUT_NAME")]
    pub name: String,
    /// Watch live updates to the rollout
    #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", action = ArgAction::Set, value_parser = parse_go_bool)]
    pub watch: bool,
    /// Do not colorize output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Timeout after specified seconds
    #[arg(long = "timeout-seconds", default_value_t = 0)]
    pub timeout_seconds: i64,
    /// Output format: json or yaml (default: text)
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<Output>,
}

#[derive(Args, Debug)]
pub struct GetExperimentArgs {
    #[arg(value_name = "EXPERIMENT_NAME")]
    pub name: String,
    /// Watch live updates to the experiment
    #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", action = ArgAction::Set, value_parser = parse_go_bool)]
    pub watch: bool,
    /// Do not colorize output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Output format: json or yaml (default: text)
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<Output>,
}

#[derive(Subcommand, Debug)]
pub enum ListCommand {
    /// List rollouts
    #[command(visible_aliases = ["ro", "rollout"])]
    Rollouts {
        /// Only show rollout with specified name
        #[arg(long)]
        name: Option<String>,
        /// Include all namespaces
        #[arg(short = 'A', long = "all-namespaces")]
        all_namespaces: bool,
        /// Watch for changes
        #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_value = "false",
              default_missing_value = "true", action = ArgAction::Set, value_parser = parse_go_bool)]
        watch: bool,
        /// Print timestamps on updates
        #[arg(long)]
        timestamps: bool,
        /// Output format: json or yaml (default: text)
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
    /// List experiments
    #[command(visible_aliases = ["exp", "experiment"])]
    Experiments {
        /// Include all namespaces
        #[arg(short = 'A', long = "all-namespaces")]
        all_namespaces: bool,
        /// Output format: json or yaml (default: text)
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetryCommand {
    /// Retry an aborted rollout
    #[command(visible_aliases = ["ro", "rollouts"])]
    Rollout {
        #[arg(value_name = "ROLLOUT_NAME", required = true)]
        names: Vec<String>,
    },
    /// Retry an experiment
    #[command(visible_aliases = ["exp", "experiments"], long_about = "Retry a failed experiment.")]
    Experiment {
        #[arg(value_name = "EXPERIMENT_NAME", required = true)]
        names: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SetCommand {
    /// Update the image of a rollout
    #[command(
        after_help = "Examples:\n  # Set rollout image (containers contains 'initContainer', 'container', 'ephemeralContainer')\n  kubectl argo rollouts set image my-rollout containerName=imageName\n\n  # Set rollout image for all containers\n  kubectl argo rollouts set image my-rollout *=imageName"
    )]
    Image {
        #[arg(value_name = "ROLLOUT_NAME")]
        name: String,
        #[arg(value_name = "CONTAINER=IMAGE")]
        container_image: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TerminateCommand {
    /// Terminate an AnalysisRun
    #[command(visible_aliases = ["ar", "analysisruns"], long_about = "This command terminates an AnalysisRun.")]
    Analysisrun {
        #[arg(value_name = "ANALYSISRUN_NAME", required = true)]
        names: Vec<String>,
    },
    /// Terminate an experiment
    #[command(visible_aliases = ["exp", "experiments"], long_about = "This command terminates an Experiment.")]
    Experiment {
        #[arg(value_name = "EXPERIMENT_NAME", required = true)]
        names: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("kubectl-argo-rollouts").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn pflag_style_booleans() {
        let Command::Status { watch, .. } = parse(&["status", "ro"]).command else {
            panic!()
        };
        assert!(watch);
        let Command::Status { watch, .. } = parse(&["status", "ro", "--watch=false"]).command
        else {
            panic!()
        };
        assert!(!watch);
        let Command::Get(GetCommand::Rollout(args)) = parse(&["get", "ro", "x", "-w"]).command
        else {
            panic!()
        };
        assert!(args.watch);
    }

    #[test]
    fn global_flags_anywhere() {
        let cli = parse(&["promote", "ro", "-n", "team", "--full", "--context", "c"]);
        assert_eq!(cli.kube.namespace.as_deref(), Some("team"));
        assert_eq!(cli.kube.context.as_deref(), Some("c"));
        let cli = parse(&["-n", "x", "list", "rollouts", "-A"]);
        assert_eq!(cli.kube.namespace.as_deref(), Some("x"));
    }

    #[test]
    fn aliases() {
        assert!(matches!(
            parse(&["get", "exp", "e"]).command,
            Command::Get(GetCommand::Experiment(_))
        ));
        assert!(matches!(
            parse(&["retry", "ro", "a", "b"]).command,
            Command::Retry(RetryCommand::Rollout { .. })
        ));
        assert!(matches!(
            parse(&["terminate", "ar", "run"]).command,
            Command::Terminate(TerminateCommand::Analysisrun { .. })
        ));
        assert!(matches!(
            parse(&["create", "ar", "--from", "t"]).command,
            Command::Create(CreateArgs {
                command: Some(CreateCommand::Analysisrun(_)),
                ..
            })
        ));
        assert!(matches!(
            parse(&["promote", "ro", "-c"]).command,
            Command::Promote {
                skip_current_step: true,
                ..
            }
        ));
    }
}
