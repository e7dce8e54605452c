//! What every typed Avi object offers the client.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::kind::Kind;

/// A typed Avi object.
///
/// Models hold the fields we set as typed fields and every other field in a flattened map, so a
/// read-modify-write never drops what the controller or another tool set.
pub trait AviObject: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Its type.
    const KIND: Kind;
    /// Its name.
    fn name(&self) -> &str;
    /// The `created_by` it carries.
    fn created_by(&self) -> Option<&str>;
    /// Its uuid, once the controller assigned one.
    fn uuid(&self) -> Option<&str>;
}
