//! The `ako-gateway-api` container's controller: the [`crate::controller::Controller`] with
//! the Gateway API translator, writing statuses as `ako-gateway-api`.

use avi_client::AviClient;
use gateway_translate::GatewayApiTranslator;
use translate_core::Settings;

pub use crate::controller::status::FIELD_MANAGER;
pub use crate::controller::{ControllerOptions, ControllerStatus, OWNED_KINDS, inputs};

/// The gateway container's controller.
pub struct Controller;

impl Controller {
    /// The controller with the Gateway API translator for `settings` (see
    /// [`crate::controller::Controller::new`]).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        kube: kube::Client,
        avi: AviClient,
        settings: Settings,
        options: ControllerOptions,
    ) -> crate::controller::Controller {
        crate::controller::Controller::new(kube, avi, settings, options)
            .with_translator(GatewayApiTranslator)
            .with_field_manager(FIELD_MANAGER)
    }
}
