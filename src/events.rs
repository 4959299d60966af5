//! Kubernetes Events on Rollouts, as client-go's recorder writes them for Argo Rollouts:
//! `core/v1` Events with source component `rollouts-controller`, one per distinct message.
//!
//! kube-runtime's recorder folds every event with the same reason into one series and keeps the
//! first message, which would lose "Rollout step 2/4 completed" after step 1; tools and users key
//! off these messages, so we keep them apart. An identical event (same object, type, reason and
//! message) within ten minutes increments the count of the existing Event instead, like client-go.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::core::v1::{Event, EventSource, ObjectReference},
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};

/// The component name Argo Rollouts records events with.
pub const COMPONENT: &str = "rollouts-controller";
const AGGREGATION_WINDOW: Duration = Duration::from_secs(600);

type Key = (String, String, String, String);

/// Publishes Events; cheap to share.
pub struct EventRecorder {
    client: Client,
    recent: Mutex<HashMap<Key, (String, i32, Instant)>>,
    /// When `recent` was last pruned (at most every [`PRUNE_EVERY`], not on every publish:
    /// thousands of rollouts updating at once publish thousands of events).
    pruned: Mutex<Instant>,
}

const PRUNE_EVERY: Duration = Duration::from_secs(30);

impl EventRecorder {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            recent: Mutex::new(HashMap::new()),
            pruned: Mutex::new(Instant::now()),
        }
    }

    /// Records one event on `object`.
    pub async fn publish(
        &self,
        object: &ObjectReference,
        type_: &str,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let ns = object.namespace.clone().unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let key: Key = (
            object.uid.clone().unwrap_or_default(),
            type_.to_string(),
            reason.to_string(),
            message.to_string(),
        );
        let now = Time(Timestamp::now());
        let existing = {
            let mut recent = self.recent.lock().unwrap();
            let mut pruned = self.pruned.lock().unwrap();
            if pruned.elapsed() >= PRUNE_EVERY {
                recent.retain(|_, (_, _, at)| at.elapsed() < AGGREGATION_WINDOW);
                *pruned = Instant::now();
            }
            recent
                .get(&key)
                .filter(|(_, _, at)| at.elapsed() < AGGREGATION_WINDOW)
                .cloned()
        };
        if let Some((name, count, _)) = existing {
            let patch = serde_json::json!({"count": count + 1, "lastTimestamp": now});
            if api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .is_ok()
            {
                self.recent
                    .lock()
                    .unwrap()
                    .insert(key, (name, count + 1, Instant::now()));
                return Ok(());
            }
            // The Event is gone (TTL); create a new one below.
        }
        let base = object.name.clone().unwrap_or_else(|| COMPONENT.into());
        let name = format!("{base}.{:x}", Timestamp::now().as_nanosecond());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns),
                ..Default::default()
            },
            involved_object: object.clone(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(type_.to_string()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(COMPONENT.into()),
                host: None,
            }),
            reporting_component: Some(COMPONENT.into()),
            reporting_instance: Some(COMPONENT.into()),
            ..Default::default()
        };
        api.create(&PostParams::default(), &event).await?;
        self.recent
            .lock()
            .unwrap()
            .insert(key, (name, 1, Instant::now()));
        Ok(())
    }
}
