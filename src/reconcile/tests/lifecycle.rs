//! First reconcile, initial deploy, steady state.

use super::harness::*;

#[test]
fn debug_initial() {
    let mut world = World::new(rollout(5, Some(vec![weight(20), pause(), weight(50), pause_secs(30)])));
    for i in 0..5 {
        world.settle();
        let plan = world.reconcile();
        println!("--- reconcile {i}: {:#?}", shape(&plan));
        for p in status_patches(&plan) { println!("{}", serde_json::to_string(&p).unwrap()); }
        println!("events {:?} requeue {:?}", events(&plan), plan.requeue_after);
    }
}
