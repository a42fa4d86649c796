//! `check::missing-site`: a platform with machines but no `site`. Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::Span;

use super::{declare_check, source_order};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a platform that declares hosts, VMs or firewalls but no `site`. Reported at
    /// the first of them. (A second `site` is rejected by the language: `site` is a single
    /// kind.) A program of VLANs and values alone needs no site.
    ///
    /// ## Why
    /// The site gives every machine its domain, time zone, name servers and the operator's
    /// SSH keys; without it no VM, host or firewall configuration can be generated.
    ///
    /// ## Example
    /// ```plat
    /// vm a { host = host.pve1, vmid = 101, memory = 2GiB, nics = {} }
    /// # and no `site { ... }` in any file
    /// ```
    ///
    /// ## How to fix
    /// Declare the site once, e.g. in `00-anchor/site.plat`:
    /// `site { name = "lab", domain = "lab.home.arpa", ssh_keys = ["ssh-ed25519 ..."] }`.
    code = "check::missing-site",
    severity = Error,
}

/// Reports a missing site, at the first declared host, VM or firewall.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    if model.site.is_some() {
        return;
    }
    let machines = [
        model
            .hosts
            .values()
            .next()
            .map(|host| (host.span, format!("host {}", host.name))),
        model
            .vms
            .values()
            .next()
            .map(|vm| (vm.span, format!("vm {}", vm.name))),
        model
            .firewalls
            .values()
            .next()
            .map(|fw| (fw.span, format!("firewall {}", fw.name))),
    ];
    let first = machines
        .into_iter()
        .flatten()
        .min_by_key(|(span, _): &(Span, String)| source_order(*span));
    if let Some((span, what)) = first {
        out.push(
            Diagnostic::error(INFO.code, span, "no site is declared")
                .with_label(format!("{what} needs a site"))
                .with_help(
                    "declare one `site { name = ..., domain = ..., ssh_keys = [...] }`: it gives every machine its domain, time zone and operator keys",
                ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn a_declared_site_passes() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_missing_site_is_reported_at_the_first_machine() {
        let mut model = fixture::small();
        model.site = None;
        model.hosts["pve1"].span = span(3);
        model.vms["cp-1"].span = span(2);
        model.firewalls["fw1"].span = span(4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::missing-site");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.label, "vm cp-1 needs a site");
    }

    #[test]
    fn vlans_alone_need_no_site() {
        let model = Model {
            vlans: fixture::small().vlans,
            ..Model::default()
        };
        assert!(run_check(check, &model).is_empty());
    }
}
