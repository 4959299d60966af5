//! `kubectl-argo_rollouts`: the same plugin under the name kubectl looks up for
//! `kubectl argo-rollouts ...`.

fn main() {
    std::process::exit(kubectl_argo_rollouts::main_with_args(std::env::args_os()));
}
