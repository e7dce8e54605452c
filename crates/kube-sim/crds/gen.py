#!/usr/bin/env python3
"""Converts the Gateway API standard-channel CRDs (v1.5.1) and AKO's RouteBackendExtension CRD
from shared/reference into the JSON kube-sim preloads (`--preload-crds`).

Run from the repository root: python3 crates/kube-sim/crds/gen.py ../shared/reference
"""
import glob, json, os, sys
import yaml

ref = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../shared/reference")
out = os.path.dirname(os.path.abspath(__file__))

def crds(paths):
    docs = []
    for p in sorted(paths):
        for d in yaml.safe_load_all(open(p)):
            if d and d.get("kind") == "CustomResourceDefinition":
                docs.append(d)
    return docs

gw = crds(glob.glob(os.path.join(ref, "gateway-api-v1.5.1/config/crd/standard/*.yaml")))
ako = crds([os.path.join(ref, "ako-crds/ako.vmware.com_routebackendextensions.yaml")])
for name, docs in (("gateway-api-v1.5.1.json", gw), ("ako-crds.json", ako)):
    with open(os.path.join(out, name), "w") as f:
        json.dump(docs, f, sort_keys=True, separators=(",", ":"))
    print(name, len(docs), "CRDs")
