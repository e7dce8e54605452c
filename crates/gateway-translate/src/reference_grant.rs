//! ReferenceGrant: whether an object in one namespace may refer to an object in another.

use gateway_api::referencegrants::ReferenceGrant;

use crate::snapshot::Snapshot;

/// The referring side: group, kind and namespace of the object holding the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referrer<'a> {
    /// API group (`gateway.networking.k8s.io`).
    pub group: &'a str,
    /// Kind (`Gateway`, `HTTPRoute`).
    pub kind: &'a str,
    /// Namespace.
    pub namespace: &'a str,
}

/// The referred side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referent<'a> {
    /// API group (`""` for core).
    pub group: &'a str,
    /// Kind (`Secret`, `Service`).
    pub kind: &'a str,
    /// Namespace of the target.
    pub namespace: &'a str,
    /// Name of the target.
    pub name: &'a str,
}

/// Same-namespace references are always allowed; a cross-namespace one needs a ReferenceGrant
/// in the target's namespace whose `from` names the referrer and whose `to` names the target
/// (by kind, and by name when the grant gives one).
pub fn permits(snapshot: &Snapshot, from: Referrer<'_>, to: Referent<'_>) -> bool {
    if from.namespace == to.namespace {
        return true;
    }
    snapshot
        .reference_grants
        .iter()
        .filter(|((ns, _), _)| ns == to.namespace)
        .any(|(_, grant)| grant_allows(grant, from, to))
}

fn grant_allows(grant: &ReferenceGrant, from: Referrer<'_>, to: Referent<'_>) -> bool {
    let from_ok = grant
        .spec
        .from
        .iter()
        .any(|f| f.group == from.group && f.kind == from.kind && f.namespace == from.namespace);
    let to_ok = grant.spec.to.iter().any(|t| {
        t.group == to.group && t.kind == to.kind && t.name.as_deref().is_none_or(|n| n == to.name)
    });
    from_ok && to_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(name: Option<&str>) -> ReferenceGrant {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
            "metadata": {"name": "g", "namespace": "certs"},
            "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra"}],
                     "to": [{"group": "", "kind": "Secret", "name": name}]}
        }))
        .unwrap()
    }

    const FROM: Referrer<'static> = Referrer {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        namespace: "infra",
    };

    #[test]
    fn cross_namespace_needs_a_matching_grant() {
        let to = Referent {
            group: "",
            kind: "Secret",
            namespace: "certs",
            name: "tls",
        };
        let mut s = Snapshot::default();
        assert!(!permits(&s, FROM, to));
        assert!(
            permits(
                &s,
                FROM,
                Referent {
                    namespace: "infra",
                    ..to
                }
            ),
            "same namespace"
        );
        s.reference_grants
            .insert(("certs".into(), "g".into()), grant(None).into());
        assert!(
            permits(&s, FROM, to),
            "grant without a name covers every Secret"
        );
        s.reference_grants
            .insert(("certs".into(), "g".into()), grant(Some("other")).into());
        assert!(!permits(&s, FROM, to), "grant for another name");
        assert!(!permits(
            &s,
            Referrer {
                namespace: "elsewhere",
                ..FROM
            },
            to
        ));
        assert!(!permits(
            &s,
            FROM,
            Referent {
                kind: "ConfigMap",
                ..to
            }
        ));
    }
}
