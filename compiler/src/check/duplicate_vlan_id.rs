//! `check::duplicate-vlan-id`: two VLANs with the same 802.1Q tag. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, for_each_repeat};
use crate::model::{Model, Vlan};

declare_check! {
    /// ## What it does
    /// Reports a VLAN whose `id` an earlier VLAN already has.
    ///
    /// ## Why
    /// The tag is what separates the segments on the trunk: two VLANs with one tag are one
    /// broadcast domain, and pfSense refuses a second VLAN interface with the same tag on the
    /// same parent interface.
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes    { id = 20, subnet = 10.20.0.0/24 }
    /// vlan services { id = 20, subnet = 10.30.0.0/24 }
    /// ```
    ///
    /// ## How to fix
    /// Give the second VLAN an unused tag (1 to 4094).
    code = "check::duplicate-vlan-id",
    severity = Error,
}

/// Reports every VLAN after the first with a given tag, at its `id` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let vlans = model.vlans.values().map(|vlan| (*vlan.id, vlan));
    for_each_repeat(vlans, |first: &&Vlan, repeat: &&Vlan| {
        out.push(
            Diagnostic::error(
                INFO.code,
                repeat.id.span,
                format!(
                    "vlan {} has id {}, which vlan {} already has",
                    repeat.name, *repeat.id, first.name
                ),
            )
            .with_label("duplicate vlan id")
            .with_secondary(
                first.id.span,
                format!("first used here by vlan {}", first.name),
            )
            .with_help("give each vlan its own id between 1 and 4094"),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn distinct_ids_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_repeated_id_is_reported_at_the_second_vlan() {
        let mut model = fixture::small();
        model.vlans["nodes"].id = at(10, 1);
        model.vlans["services"].id = at(10, 2);
        model.vlans["mgmt"].id = at(11, 3);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-vlan-id");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert!(d.message.contains("vlan services has id 10"));
    }
}
