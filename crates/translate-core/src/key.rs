//! Typed keys of Kubernetes objects, instead of string tuples whose order a reader must know.

use std::fmt;

/// An API group and a kind (`networking.k8s.io`, `Ingress`); the group is empty for the core
/// API.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
}

impl GroupKind {
    /// A group and kind.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        GroupKind {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// One Kubernetes object: group, kind, namespace (empty for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Group and kind.
    pub group_kind: GroupKind,
    /// Namespace (`""` for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// An object of `group`/`kind`.
    pub fn new(
        group: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        ObjectKey {
            group_kind: GroupKind::new(group, kind),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The API group.
    pub fn group(&self) -> &str {
        &self.group_kind.group
    }

    /// The kind.
    pub fn kind(&self) -> &str {
        &self.group_kind.kind
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.group_kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.group_kind, self.namespace, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_as_kubectl_names_them() {
        assert_eq!(
            ObjectKey::new("networking.k8s.io", "Ingress", "apps", "web").to_string(),
            "Ingress.networking.k8s.io apps/web"
        );
        assert_eq!(
            ObjectKey::new("", "Namespace", "", "apps").to_string(),
            "Namespace apps"
        );
        // Ordered by group, kind, namespace, name.
        let a = ObjectKey::new("a", "Z", "z", "z");
        let b = ObjectKey::new("b", "A", "a", "a");
        assert!(a < b);
    }
}
