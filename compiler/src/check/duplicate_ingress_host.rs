//! `check::duplicate-ingress-host`: two services exposed at the same ingress host and path.
//! Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, for_each_repeat};
use crate::model::{Ingress, Model, Service};

declare_check! {
    /// ## What it does
    /// Reports a service whose `ingress` host and path an earlier service already uses,
    /// across every namespace and cluster. Host names compare without regard to case.
    ///
    /// ## Why
    /// The ingress controller routes a host and path to one backend; with two Ingress
    /// objects claiming it, which one wins depends on the controller and on creation order,
    /// and DNS can point a host name at one cluster only.
    ///
    /// ## Example
    /// ```plat
    /// service a { ..., ingress = { host = "app.lab.home.arpa" } }
    /// service b { ..., ingress = { host = "app.lab.home.arpa" } }
    /// ```
    ///
    /// ## How to fix
    /// Give the second service its own host name, or a distinct `path` on the same host.
    code = "check::duplicate-ingress-host",
    severity = Error,
}

/// Reports every service after the first with a given ingress host and path, at its `ingress`.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let exposed = model.services.values().filter_map(|service| {
        let ingress = service.ingress.as_ref()?;
        Some((
            (ingress.host.to_ascii_lowercase(), ingress.path.clone()),
            (service, ingress),
        ))
    });
    for_each_repeat(
        exposed,
        |first: &(&Service, &Ingress), repeat: &(&Service, &Ingress)| {
            let (first, _) = *first;
            let (service, ingress) = *repeat;
            out.push(
                Diagnostic::error(
                    INFO.code,
                    service.ingress.span,
                    format!(
                        "service {} is exposed at {}{}, which service {} already uses",
                        service.name, ingress.host, ingress.path, first.name
                    ),
                )
                .with_label("duplicate ingress host")
                .with_secondary(
                    first.ingress.span,
                    format!("first used here by service {}", first.name),
                )
                .with_help("give each service its own ingress host, or a distinct `path`"),
            );
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    fn with_second_service(host: &str, path: &str) -> Vec<Diagnostic> {
        let mut model = fixture::small();
        model.services["whoami"].ingress.span = span(1);
        let mut other = model.services["whoami"].clone();
        other.name = "other".into();
        other.ingress = at(
            Some(Ingress {
                host: host.into(),
                path: path.into(),
                class: "nginx".into(),
                issuer: None,
            }),
            2,
        );
        model.services.insert("other".into(), other);
        run_check(check, &model)
    }

    #[test]
    fn distinct_hosts_or_paths_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
        assert!(with_second_service("other.lab.home.arpa", "/").is_empty());
        assert!(with_second_service("whoami.lab.home.arpa", "/api").is_empty());
    }

    #[test]
    fn a_repeated_host_is_reported_at_the_second_ingress() {
        let found = with_second_service("WHOAMI.lab.home.arpa", "/");
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-ingress-host");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "service other is exposed at WHOAMI.lab.home.arpa/, which service whoami already uses"
        );
    }
}
