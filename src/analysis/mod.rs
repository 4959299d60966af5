//! Analysis: metric-gated releases, with the semantics of Argo Rollouts v1.9.1's AnalysisRun
//! controller (`analysis/analysis.go`, `utils/analysis`, `utils/evaluate`, `metricproviders`).
//!
//! Pure wherever possible: the loop is a set of functions over the run and an explicit `now`;
//! only [`provider`] does I/O. Nothing here watches or patches objects — the controller runtime
//! calls this API and persists what it returns.
//!
//! # Modules
//! - [`expr`]: the condition language (antonmedv/expr v1.15.5 with Argo's environment):
//!   [`expr::eval_condition`], [`expr::evaluate_result`] (success/failure → phase),
//!   [`expr::eval_time`] (Prometheus range bounds), [`expr::Value`] (provider results).
//! - [`args`]: `{{args.x}}` substitution ([`args::resolve_metric_args`]), secret-backed
//!   arguments ([`args::resolve_secret_args`], [`args::Redactor`] → `*****`), and the Rollout's
//!   arguments to a run ([`args::build_rollout_args`]: values, pod-template hashes, `fieldRef`).
//! - [`templates`]: following nested template references ([`templates::collect_templates`]),
//!   flattening them ([`templates::flatten_templates`]), merging arguments
//!   ([`templates::merge_args`]) and building the AnalysisRun ([`templates::new_analysis_run`]).
//! - [`assess`]: the loop's pure steps — [`assess::prepare`] (resolve + validate + dry-run and
//!   retention rules), [`assess::due_measurements`] (initial delay, interval, 10 s error retry,
//!   resume, terminate), [`assess::record_measurements`] (counters, redaction),
//!   [`assess::assess_run`] (metric and run phases, message, summaries, events, `startedAt`,
//!   `completedAt`), [`assess::measurements_to_trim`]/[`assess::trim_measurements`] (keep 10
//!   or `measurementRetention.limit`), [`assess::next_reconcile`]/[`assess::requeue_after`],
//!   [`assess::ttl_expired`]/[`assess::ttl_deadline`].
//! - [`reconcile`]: one reconcile composed from those steps: [`reconcile::begin`] →
//!   (caller measures) → [`reconcile::finish`], or [`reconcile::reconcile_with`] with
//!   synchronous closures.
//! - [`provider`]: the [`provider::MetricProvider`] trait (boxed futures, object safe), the
//!   Prometheus, web and Job providers, [`provider::ProviderFactory`], and the async driver
//!   [`provider::reconcile`].
//!
//! # Wiring an AnalysisRun controller
//! ```ignore
//! let factory = ProviderFactory::from_env(Some(client.clone()));
//! // on each reconcile of `run` (not being deleted):
//! let out = analysis::provider::reconcile(&run, Utc::now(), &factory, &client).await;
//! if out.delete { /* delete the run (TTL) */ }
//! else if out.run.status != run.status { /* write out.run.status (AnalysisRuns have no status
//!     subresource: update the object) */ }
//! for e in out.events { /* record e.reason / e.message (Warning if e.warning) on the run */ }
//! if let Some(after) = out.requeue_after { /* requeue */ }
//! // Job metrics have no requeue time: reconcile the run when a Job labelled
//! // `analysisrun.argoproj.io/uid` completes or fails (see `provider::job`).
//! ```
//!
//! # Creating runs (Rollout side)
//! [`args::build_rollout_args`] → [`templates::collect_templates`] (lookups in the template
//! caches) → [`templates::new_analysis_run`] with the name, labels and annotations of contract
//! §2.9; add the owner reference. A Failed/Error run's `status.message` is what goes into the
//! Rollout's abort message.

pub mod args;
pub mod assess;
pub mod controller;
pub mod expr;
pub mod provider;
pub mod reconcile;
pub mod templates;

#[cfg(test)]
mod tests;
