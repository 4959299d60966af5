//! Watching: reflectors that keep the namespace's objects current, and a loop that redraws at
//! most every 200 ms (and every second, to refresh ages) until Ctrl-C, a timeout, or the caller
//! is done.

use std::{fmt::Debug, hash::Hash, time::Duration};

use anyhow::Result;
use futures::{StreamExt, stream::BoxStream};
use kube::{
    Api, Resource,
    runtime::{
        WatchStreamExt,
        reflector::{self, Store},
        watcher,
    },
};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::status::WatchEnd;

/// Redraws are at least this far apart.
pub const MIN_REDRAW_INTERVAL: Duration = Duration::from_millis(200);
/// Without changes, redraw this often (ages move on).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// An event stream of one reflector: `Some(i)` once store `i` has its initial list.
pub type Events = BoxStream<'static, Option<usize>>;

/// A store kept current by a watch of `api`; `index` identifies it in the event stream.
pub fn reflect<K>(api: Api<K>, config: watcher::Config, index: usize) -> (Store<K>, Events)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let events = reflector::reflector(writer, watcher(api, config))
        .default_backoff()
        .map(move |event| match event {
            Ok(watcher::Event::InitDone) => Some(index),
            _ => None,
        })
        .boxed();
    (reader, events)
}

/// The objects of a store, cloned.
pub fn snapshot<K: Resource + Clone>(store: &Store<K>) -> Vec<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store.state().iter().map(|o| (**o).clone()).collect()
}

/// What the callback wants after a redraw.
pub enum Flow {
    Continue,
    Stop,
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Drives `streams` (of `stores` reflectors) and calls `redraw(changed)` once every store has
/// its initial list: on changes (at most every [`MIN_REDRAW_INTERVAL`]) with `changed = true`,
/// and every [`REFRESH_INTERVAL`] with `changed = false`. Ends on Ctrl-C, after `timeout`, or
/// when `redraw` says so.
pub async fn run<F>(
    streams: Vec<Events>,
    stores: usize,
    timeout: Option<Duration>,
    mut redraw: F,
) -> Result<WatchEnd>
where
    F: FnMut(bool) -> Result<Flow>,
{
    let mut events = futures::stream::select_all(streams);
    let mut ready = vec![false; stores];
    let mut dirty = false;
    let mut last_redraw: Option<Instant> = None;
    let mut refresh = tokio::time::interval(REFRESH_INTERVAL);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let stop = interrupted();
    tokio::pin!(stop);

    loop {
        let throttle_until = match (dirty, last_redraw) {
            (true, Some(at)) => Some(at + MIN_REDRAW_INTERVAL),
            _ => None,
        };
        let throttle = async {
            match throttle_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut tick = false;
        tokio::select! {
            event = events.next() => match event {
                Some(Some(i)) => { ready[i] = true; dirty = true; }
                Some(None) => dirty = true,
                None => return Ok(WatchEnd::Interrupted),
            },
            _ = refresh.tick() => tick = true,
            _ = throttle => {}
            _ = &mut deadline => return Ok(WatchEnd::Timeout),
            _ = &mut stop => return Ok(WatchEnd::Interrupted),
        }
        if !ready.iter().all(|r| *r) {
            continue;
        }
        let due = last_redraw.is_none_or(|at| at.elapsed() >= MIN_REDRAW_INTERVAL);
        if due && (dirty || tick) {
            let changed = dirty;
            dirty = false;
            last_redraw = Some(Instant::now());
            if let Flow::Stop = redraw(changed)? {
                return Ok(WatchEnd::Terminal);
            }
        }
    }
}
