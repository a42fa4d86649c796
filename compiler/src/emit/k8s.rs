//! TODO(emitter): being written.

use super::Files;
use crate::model::Model;

/// The files of this target.
pub fn emit(_model: &Model) -> Files {
    Files::new()
}
