//! `kubectl-argo-rollouts`: the kubectl plugin binary (`kubectl argo rollouts ...`).

fn main() {
    std::process::exit(kubectl_argo_rollouts::main_with_args(std::env::args_os()));
}
