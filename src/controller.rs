//! The Rollout controller runtime: reflectors, the work queue, and the reconcile loop
//! observe → [`crate::reconcile::plan`] → [`crate::execute`].
//!
//! One set of reflector stores is shared by every reconcile (no API reads while planning). Objects
//! this controller writes are remembered in a write-back cache and preferred over an older cached
//! copy, so a reconcile that runs before the watch delivers our own write does not plan the same
//! step twice (Argo's `writeBackToInformer`).

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Pod, Service},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    runtime::{
        Controller, WatchStreamExt,
        controller::Action as RequeueAction,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use std::sync::Mutex;
use tracing::{info, warn};

use crate::{
    crd::{
        AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, Rollout, rollout::keys,
    },
    execute::{self, ExecuteError},
    plan::{Observed, PlannerConfig},
};

/// Settings of the controller process (from the command line).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace (`--namespaced`).
    pub namespace: Option<String>,
    /// Handle only objects labelled with this instance id (`--instance-id`); without it, only
    /// objects without the label.
    pub instance_id: Option<String>,
    /// Parallel reconciles (`--rollout-threads`).
    pub threads: u16,
    /// Periodic resync of every rollout (`--rollout-resync`).
    pub resync: Duration,
    /// Parallel AnalysisRun reconciles (`--analysis-threads`).
    pub analysis_threads: u16,
}

/// What the process shares with the controller: metrics, and the slots where the controllers
/// publish their Rollout and AnalysisRun caches for the `/metrics` endpoint.
#[derive(Clone, Default)]
pub struct Shared {
    pub metrics: Arc<crate::metrics::Metrics>,
    pub rollouts: crate::metrics::RolloutStoreSlot,
    pub analysis_runs: crate::metrics::AnalysisRunStoreSlot,
}

/// Shared state of all reconciles.
pub struct Context {
    pub client: Client,
    pub recorder: crate::events::EventRecorder,
    pub settings: Settings,
    replica_sets: Store<ReplicaSet>,
    services: Store<Service>,
    analysis_runs: Store<AnalysisRun>,
    analysis_templates: Store<AnalysisTemplate>,
    /// Not watched with `--namespaced` (cluster-scoped; a namespaced install cannot read them).
    cluster_analysis_templates: Option<Store<ClusterAnalysisTemplate>>,
    experiments: Store<Experiment>,
    pods: Store<Pod>,
    written: WriteBack,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// UIDs of the rollouts this process has seen, for Argo's `RolloutAddedToInformer` event
    /// (one per rollout per process, like Argo's informer add; a few dozen bytes each).
    seen: Mutex<std::collections::HashSet<String>>,
}

/// Objects returned by our own writes, newer than what the watch has delivered so far.
#[derive(Default)]
pub struct WriteBack {
    rollouts: Mutex<HashMap<(String, String), Rollout>>,
    replica_sets: Mutex<HashMap<(String, String), Option<ReplicaSet>>>,
    analysis_runs: Mutex<HashMap<(String, String), Option<AnalysisRun>>>,
}

fn rv(meta: &kube::api::ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn key<K: Resource>(obj: &K) -> (String, String) {
    (
        obj.meta().namespace.clone().unwrap_or_default(),
        obj.meta().name.clone().unwrap_or_default(),
    )
}

impl WriteBack {
    /// Remembers a Rollout returned by a write.
    pub fn rollout(&self, ro: Rollout) {
        self.rollouts.lock().unwrap().insert(key(&ro), ro);
    }

    /// Remembers a ReplicaSet returned by a write (`None` for a deletion).
    pub fn replica_set(&self, ns: &str, name: &str, rs: Option<ReplicaSet>) {
        self.replica_sets
            .lock()
            .unwrap()
            .insert((ns.to_string(), name.to_string()), rs);
    }

    /// The newer of the cached and the written Rollout; drops write-backs the watch has caught up with.
    fn fresh_rollout(&self, cached: Rollout) -> Rollout {
        let mut map = self.rollouts.lock().unwrap();
        match map.get(&key(&cached)) {
            Some(written) if rv(&written.metadata) > rv(&cached.metadata) => written.clone(),
            Some(_) => {
                map.remove(&key(&cached));
                cached
            }
            None => cached,
        }
    }

    /// Remembers an AnalysisRun returned by a write (`None` for a deletion).
    pub fn analysis_run(&self, ns: &str, name: &str, run: Option<AnalysisRun>) {
        self.analysis_runs
            .lock()
            .unwrap()
            .insert((ns.to_string(), name.to_string()), run);
    }

    /// Applies written ReplicaSets over the cached list of one namespace.
    fn fresh_replica_sets(&self, ns: &str, cached: Vec<ReplicaSet>) -> Vec<ReplicaSet> {
        fresh_list(&self.replica_sets, ns, cached)
    }

    /// Applies written AnalysisRuns over the cached list of one namespace.
    fn fresh_analysis_runs(&self, ns: &str, cached: Vec<AnalysisRun>) -> Vec<AnalysisRun> {
        fresh_list(&self.analysis_runs, ns, cached)
    }
}

/// Applies written objects over the cached list of one namespace, and forgets the write-backs
/// the watch has caught up with.
fn fresh_list<K: Resource + Clone>(
    written: &Mutex<HashMap<(String, String), Option<K>>>,
    ns: &str,
    mut cached: Vec<K>,
) -> Vec<K> {
    let mut map = written.lock().unwrap();
    map.retain(|(wns, name), written| {
        if wns != ns {
            return true;
        }
        let pos = cached
            .iter()
            .position(|o| o.meta().name.as_deref() == Some(name));
        match (written, pos) {
            (Some(w), Some(i)) if rv(w.meta()) > rv(cached[i].meta()) => {
                cached[i] = w.clone();
                true
            }
            (Some(_), Some(_)) => false,
            (Some(w), None) => {
                cached.push(w.clone());
                true
            }
            (None, Some(i)) => {
                cached.remove(i);
                true
            }
            (None, None) => false,
        }
    });
    cached
}

fn controlled_by<K: Resource>(obj: &K, owner: &Rollout) -> bool {
    let uid = owner.metadata.uid.as_deref();
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && Some(r.uid.as_str()) == uid)
}

/// Names of the Services a Rollout's spec references.
pub fn referenced_services(ro: &Rollout) -> Vec<String> {
    let mut names = vec![];
    if let Some(bg) = &ro.spec.strategy.blue_green {
        names.push(bg.active_service.clone());
        names.extend(bg.preview_service.clone());
    }
    if let Some(c) = &ro.spec.strategy.canary {
        names.extend(c.canary_service.clone());
        names.extend(c.stable_service.clone());
        if let Some(pp) = &c.ping_pong {
            names.push(pp.ping_service.clone());
            names.push(pp.pong_service.clone());
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

impl Context {
    /// The snapshot one reconcile plans from.
    fn observe(&self, cached: &Rollout) -> Observed {
        let rollout = normalize(self.written.fresh_rollout(cached.clone()));
        let ns = rollout.namespace().unwrap_or_default();
        // Ours, or an orphan of the namespace that the planner may adopt. Checked on the cached
        // objects before anything is cloned: a namespace may hold thousands of ReplicaSets.
        let relevant = |rs: &ReplicaSet| {
            if rs.metadata.namespace.as_deref() != Some(ns.as_str())
                || rs.metadata.deletion_timestamp.is_some()
            {
                return false;
            }
            let orphan = !rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.controller == Some(true));
            controlled_by(rs, &rollout)
                || (orphan
                    && crate::reconcile::claim::selector_matches(
                        rollout.spec.selector.as_ref(),
                        rs.metadata.labels.as_ref(),
                    ))
        };
        let mut replica_sets: Vec<ReplicaSet> = self
            .replica_sets
            .state()
            .iter()
            .filter(|rs| relevant(rs))
            .map(|rs| (**rs).clone())
            .collect();
        replica_sets = self.written.fresh_replica_sets(&ns, replica_sets);
        replica_sets.retain(relevant);
        replica_sets.sort_by(|a, b| {
            (
                a.metadata.creation_timestamp.as_ref().map(|t| t.0),
                &a.metadata.name,
            )
                .cmp(&(
                    b.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    &b.metadata.name,
                ))
        });
        let services = referenced_services(&rollout)
            .into_iter()
            .filter_map(|name| {
                let obj = self.services.get(&ObjectRef::new(&name).within(&ns))?;
                Some((name, (*obj).clone()))
            })
            .collect();
        let prefix = format!("{}-", rollout.name_any());
        let relevant_run = |ar: &AnalysisRun| {
            ar.metadata.namespace.as_deref() == Some(ns.as_str())
                && (controlled_by(ar, &rollout) || ar.name_any().starts_with(&prefix))
        };
        let in_namespace: Vec<AnalysisRun> = self
            .analysis_runs
            .state()
            .iter()
            .filter(|ar| relevant_run(ar))
            .map(|ar| (**ar).clone())
            .collect();
        let mut in_namespace = self.written.fresh_analysis_runs(&ns, in_namespace);
        in_namespace.retain(relevant_run);
        let mut foreign_analysis_run_names = std::collections::BTreeSet::new();
        let mut analysis_runs = Vec::new();
        for ar in in_namespace {
            if controlled_by(&ar, &rollout) {
                analysis_runs.push(ar);
            } else if ar.name_any().starts_with(&prefix) {
                foreign_analysis_run_names.insert(ar.name_any());
            }
        }
        let (analysis_templates, cluster_analysis_templates) = self.templates_for(&rollout, &ns);
        let experiments = self
            .experiments
            .state()
            .iter()
            .filter(|ex| controlled_by(&***ex, &rollout))
            .map(|ex| (**ex).clone())
            .collect();
        // Pods of our ReplicaSets (restarts evict them).
        let rs_uids: std::collections::BTreeSet<&str> = replica_sets
            .iter()
            .filter(|rs| controlled_by(*rs, &rollout))
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        let pods = self
            .pods
            .state()
            .iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| rs_uids.contains(o.uid.as_str()))
            })
            .map(|p| (**p).clone())
            .collect();
        Observed {
            rollout,
            replica_sets,
            services,
            analysis_runs,
            foreign_analysis_run_names,
            analysis_templates,
            cluster_analysis_templates,
            experiments,
            pods,
            now: Utc::now(),
            config: PlannerConfig {
                resync: self.settings.resync,
            },
        }
    }

    /// The templates the rollout's analyses reference, nested references followed (each name
    /// once; a missing one is simply absent and reported by the planner's validation).
    #[allow(clippy::type_complexity)]
    fn templates_for(
        &self,
        rollout: &Rollout,
        ns: &str,
    ) -> (
        std::collections::BTreeMap<String, AnalysisTemplate>,
        std::collections::BTreeMap<String, ClusterAnalysisTemplate>,
    ) {
        let mut templates = std::collections::BTreeMap::new();
        let mut cluster = std::collections::BTreeMap::new();
        let mut queue = crate::reconcile::analysis::template_refs(rollout);
        while let Some(r) = queue.pop() {
            let name = r.template_name.unwrap_or_default();
            let nested = if r.cluster_scope == Some(true) {
                if cluster.contains_key(&name) {
                    continue;
                }
                let Some(found) = self
                    .cluster_analysis_templates
                    .as_ref()
                    .and_then(|s| s.get(&ObjectRef::new(&name)))
                else {
                    continue;
                };
                let nested = found.spec.0.templates.clone();
                cluster.insert(name, (*found).clone());
                nested
            } else {
                if templates.contains_key(&name) {
                    continue;
                }
                let Some(found) = self
                    .analysis_templates
                    .get(&ObjectRef::new(&name).within(ns))
                else {
                    continue;
                };
                let nested = found.spec.templates.clone();
                templates.insert(name, (*found).clone());
                nested
            };
            queue.extend(nested.unwrap_or_default());
        }
        (templates, cluster)
    }

    pub fn write_back(&self) -> &WriteBack {
        &self.written
    }
}

/// Argo remarshals the Rollout before hashing so that equivalent objects hash alike (`steps: []`
/// becomes absent); our typed round trip does the same.
fn normalize(mut ro: Rollout) -> Rollout {
    if let Some(c) = ro.spec.strategy.canary.as_mut()
        && c.steps.as_ref().is_some_and(|s| s.is_empty())
    {
        c.steps = None;
    }
    ro
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The plan could not be completed (applied up to that point), e.g. an AnalysisRun that
    /// cannot be built from its templates.
    #[error("{0}")]
    Plan(String),
}

async fn reconcile(ro: Arc<Rollout>, ctx: Arc<Context>) -> Result<RequeueAction, Error> {
    if ro.metadata.deletion_timestamp.is_some() {
        return Ok(RequeueAction::await_change());
    }
    // The span follows this future across its awaits (`instrument`); an entered guard held over
    // an await would stay entered on the worker thread and nest every later reconcile inside it.
    let span = tracing::info_span!("reconcile", namespace = %ro.namespace().unwrap_or_default(), rollout = %ro.name_any());
    tracing::Instrument::instrument(reconcile_one(ro, ctx), span).await
}

async fn reconcile_one(ro: Arc<Rollout>, ctx: Arc<Context>) -> Result<RequeueAction, Error> {
    let start = std::time::Instant::now();
    let (ns, name) = (ro.namespace().unwrap_or_default(), ro.name_any());
    if let Some(uid) = ro.metadata.uid.clone()
        && ctx.seen.lock().unwrap().insert(uid)
    {
        // Argo records this when its informer first delivers the rollout.
        let reason = crate::status::conditions::ROLLOUT_ADDED_TO_INFORMER_REASON;
        ctx.metrics.event(&ns, &name, "Normal", reason);
        let message = format!("Rollout resource added to informer: {ns}/{name}");
        if let Err(e) = ctx
            .recorder
            .publish(&ro.object_ref(&()), "Normal", reason, &message)
            .await
        {
            warn!(error = %e, reason, "cannot record event");
        }
    }
    let observed = ctx.observe(&ro);
    let plan = crate::reconcile::plan(&observed);
    let result = execute::apply(&ctx, &observed.rollout, &plan).await;
    ctx.metrics.observe_reconcile(&ns, &name, start.elapsed());
    if result.is_err() {
        ctx.metrics.reconcile_error(&ns, &name);
    }
    result?;
    if let Some(error) = plan.error {
        ctx.metrics.reconcile_error(&ns, &name);
        return Err(Error::Plan(error));
    }
    info!(
        time_ms = start.elapsed().as_secs_f64() * 1e3,
        actions = plan.actions().count(),
        "Reconciliation completed"
    );
    Ok(match plan.requeue_after {
        Some(after) => RequeueAction::requeue(after.min(ctx.settings.resync)),
        None => RequeueAction::requeue(ctx.settings.resync),
    })
}

fn error_policy(ro: Arc<Rollout>, err: &Error, _ctx: Arc<Context>) -> RequeueAction {
    warn!(namespace = %ro.namespace().unwrap_or_default(), rollout = %ro.name_any(), error = %err, "reconcile failed");
    RequeueAction::requeue(Duration::from_secs(5))
}

fn scoped<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A cache of `K` (in the watched namespace) and the stream of changes that keeps it filled.
fn reflect<K>(
    client: &Client,
    namespace: &Option<String>,
    config: watcher::Config,
) -> (
    Store<K>,
    impl futures::Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (store, writer) = reflector::store::<K>();
    // `metadata.managedFields` is never read and is often the largest part of a cached
    // ReplicaSet or Pod. A ReplicaSet replaced from the cache without it keeps its managed
    // fields: the apiserver takes them from the live object when a request omits them.
    let events = watcher(scoped(client, namespace), config).modify(|obj: &mut K| {
        obj.meta_mut().managed_fields = None;
    });
    let stream = reflector::reflector(writer, events)
        .default_backoff()
        .touched_objects();
    (store, stream)
}

/// The label selector of `--instance-id` segregation.
pub fn instance_selector(instance_id: &Option<String>) -> String {
    match instance_id {
        Some(id) => format!("{}={id}", keys::CONTROLLER_INSTANCE_ID),
        None => format!("!{}", keys::CONTROLLER_INSTANCE_ID),
    }
}

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    client: Client,
    settings: Settings,
    shared: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let shutdown = futures::FutureExt::shared(shutdown);
    let analysis = tokio::spawn(crate::analysis::controller::run(
        client.clone(),
        crate::analysis::controller::Settings {
            namespace: settings.namespace.clone(),
            instance_id: settings.instance_id.clone(),
            threads: settings.analysis_threads,
        },
        crate::analysis::controller::Publish {
            metrics: shared.metrics.clone(),
            runs: shared.analysis_runs.clone(),
        },
        shutdown.clone(),
    ));
    let selector = instance_selector(&settings.instance_id);
    let ro_config = watcher::Config::default().labels(&selector).any_semantic();
    let all = watcher::Config::default().any_semantic();

    let rollouts: Api<Rollout> = scoped(&client, &settings.namespace);
    // Fail fast with a clear message when the CRD is missing.
    rollouts
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(|e| anyhow::anyhow!("cannot list rollouts.argoproj.io (is the CRD installed? `kubectl apply --server-side -f crds/`): {e}"))?;

    let (rs_store, rs_stream) = reflect::<ReplicaSet>(&client, &settings.namespace, all.clone());
    let (svc_store, svc_stream) = reflect::<Service>(&client, &settings.namespace, all.clone());
    let (ar_store, ar_stream) = reflect::<AnalysisRun>(&client, &settings.namespace, all.clone());
    let (ex_store, ex_stream) = reflect::<Experiment>(&client, &settings.namespace, all.clone());
    // Templates are read when a run is created or the spec validated; a change does not
    // trigger a reconcile (a rollout waiting on a missing template retries every 20 s).
    let (at_store, at_stream) =
        reflect::<AnalysisTemplate>(&client, &settings.namespace, all.clone());
    tokio::spawn(at_stream.for_each(|_| async {}));
    let cluster_analysis_templates = if settings.namespace.is_none() {
        let (store, writer) = reflector::store::<ClusterAnalysisTemplate>();
        let stream = reflector::reflector(
            writer,
            watcher(
                Api::<ClusterAnalysisTemplate>::all(client.clone()),
                all.clone(),
            ),
        )
        .default_backoff()
        .touched_objects();
        tokio::spawn(stream.for_each(|_| async {}));
        Some(store)
    } else {
        None
    };
    // Pods of rollout ReplicaSets only (they carry the hash label); read for restarts, never a trigger.
    let pod_config = watcher::Config::default()
        .labels(keys::POD_TEMPLATE_HASH)
        .any_semantic();
    let (pod_store, pod_stream) = reflect::<Pod>(&client, &settings.namespace, pod_config);
    tokio::spawn(pod_stream.for_each(|_| async {}));

    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: crate::events::EventRecorder::new(client.clone()),
        settings: settings.clone(),
        replica_sets: rs_store,
        services: svc_store,
        analysis_runs: ar_store,
        analysis_templates: at_store,
        cluster_analysis_templates,
        experiments: ex_store,
        pods: pod_store,
        written: WriteBack::default(),
        metrics: shared.metrics.clone(),
        seen: Mutex::default(),
    });

    let controller = Controller::new(rollouts, ro_config)
        .with_config(kube::runtime::controller::Config::default().concurrency(settings.threads));
    let rollout_store = controller.store();
    let svc_rollouts = rollout_store.clone();
    let _ = shared.rollouts.set(rollout_store);
    controller
        .owns_stream(rs_stream)
        .owns_stream(ar_stream)
        .owns_stream(ex_stream)
        .watches_stream(svc_stream, move |svc: Service| {
            // A Service change matters to the rollouts that reference it (by spec or by the
            // managed-by annotation of a rollout that stopped referencing it).
            let ns = svc.namespace().unwrap_or_default();
            let name = svc.name_any();
            let managed_by = svc.annotations().get(keys::MANAGED_BY_ROLLOUTS).cloned();
            svc_rollouts
                .state()
                .into_iter()
                .filter(|ro| ro.namespace().as_deref() == Some(ns.as_str()))
                .filter(|ro| {
                    managed_by.as_deref() == Some(ro.name_any().as_str())
                        || referenced_services(ro).contains(&name)
                })
                .map(|ro| ObjectRef::from_obj(&*ro))
                .collect::<Vec<_>>()
        })
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
    let _ = analysis.await;
    info!("controller stopped");
    Ok(())
}
