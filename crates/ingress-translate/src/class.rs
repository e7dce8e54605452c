//! Which Ingresses are ours (AKO's `lib.go:1895-1949`).
//!
//! - An IngressClass is ours when its `spec.controller` is the controller name we serve
//!   ([`translate_core::Settings::controller_name`], `ako.vmware.com/avi-lb`); the class's own
//!   name does not matter.
//! - An Ingress naming a class (`spec.ingressClassName`) is ours when that class is ours.
//! - An Ingress naming no class is ours only when some class of ours carries
//!   `ingressclass.kubernetes.io/is-default-class: "true"` (exactly that string), or when
//!   [`IngressSettings::default_ingress_controller`] is set.
//! - The legacy annotation `kubernetes.io/ingress.class` is ignored, as in AKO.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use translate_core::{NamespacedName, Settings};

use crate::settings::IngressSettings;

/// The annotation that makes an IngressClass the cluster's default.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// Our IngressClasses, and whether Ingresses without a class are ours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classes {
    /// Names of the IngressClasses whose controller is ours.
    pub ours: BTreeSet<String>,
    /// Whether an Ingress without `ingressClassName` is ours.
    pub default_is_ours: bool,
}

impl Classes {
    /// Reads the IngressClasses.
    pub fn new(
        classes: &BTreeMap<NamespacedName, Arc<IngressClass>>,
        settings: &Settings,
        ingress: &IngressSettings,
    ) -> Self {
        let mut out = Classes {
            ours: BTreeSet::new(),
            default_is_ours: ingress.default_ingress_controller,
        };
        for class in classes.values() {
            let controller = class.spec.as_ref().and_then(|s| s.controller.as_deref());
            if controller != Some(settings.controller_name.as_str()) {
                continue;
            }
            let Some(name) = class.metadata.name.clone() else {
                continue;
            };
            let default = class
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                .is_some_and(|v| v == "true");
            out.default_is_ours |= default;
            out.ours.insert(name);
        }
        out
    }

    /// Whether `ingress` is ours.
    pub fn is_ours(&self, ingress: &Ingress) -> bool {
        match ingress
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.as_deref())
        {
            Some(class) => self.ours.contains(class),
            None => self.default_is_ours,
        }
    }
}
