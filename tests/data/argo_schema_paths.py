#!/usr/bin/env python3
"""Lists every property path of Argo Rollouts v1.9.1's published CRD schemas.

The output (tests/data/argo-v1.9.1-schema-paths.txt) is a list of facts, one field a line:
resource, path, JSON type (or int-or-string / preserve-unknown), required or optional.
tests/schema.rs checks that our generated CRDs have every one of them. Kubernetes types (pod
templates, job specs) are not descended into: k8s-openapi provides them.

Usage: python3 tests/data/argo_schema_paths.py <argo-rollouts@v1.9.1 module dir>
       (`cd e2e/hashgen && go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts`)
"""
import sys, pathlib, json

try:
    import yaml
except ImportError:
    sys.exit("needs PyYAML")

K8S_SUBTREES = {  # (crd, path) whose children are Kubernetes types
    "spec.template.spec", "spec.templates[].template.spec",
    "spec.metrics[].provider.job.spec", "spec.metrics[].provider.job.metadata",
    "spec.strategy.canary.steps[].experiment.templates[].selector", "spec.selector",
    "spec.templates[].selector",
}

def kind(node):
    if node.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    if node.get("x-kubernetes-preserve-unknown-fields") and "properties" not in node:
        return "preserve-unknown"
    return node.get("type", "any")

def walk(node, path, out):
    props = node.get("properties") or {}
    required = set(node.get("required") or [])
    for name, child in sorted(props.items()):
        p = f"{path}.{name}" if path else name
        out.append((p, kind(child), "required" if name in required else "optional"))
        if p in K8S_SUBTREES:
            continue
        if child.get("type") == "array" and "items" in child:
            walk(child["items"], p + "[]", out)
        else:
            walk(child, p, out)

root = pathlib.Path(sys.argv[1]) / "manifests" / "crds"
for f in sorted(root.glob("*-crd.yaml")):
    crd = yaml.safe_load(f.read_text())
    plural = crd["spec"]["names"]["plural"]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    out = []
    walk(schema, "", out)
    for p, k, r in out:
        if p in ("apiVersion", "kind", "metadata"):
            continue
        print(f"{plural}\t{p}\t{k}\t{r}")
