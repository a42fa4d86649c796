//! Entity names as path segments: the rule every entity name must follow, and its diagnostic.
//!
//! The emitters build the paths of generated files from entity names
//! (`proxmox/<host>/…`, `cloud-init/<vm>/user-data`, `pfsense/<firewall>/config.xml`,
//! `kubernetes/<cluster>/kubeadm/<node>.yaml`, `kubernetes/<cluster>/<namespace>/`
//! `service-<service>.yaml`, `chart-<chart>.yaml`, `manifest-<manifest>.yaml`). A computed
//! name is any string, so without a rule `namespace "../../../victim"` would make a build write
//! `victim/namespace.yaml` beside out/. The rule is checked once, where an entity is lowered,
//! for every kind, also those in no path today (`vlan`, `rule`, `forward`): it is the floor
//! that lets any emitter use any name as one path segment. A kind may add stricter rules of its
//! own on top.
//!
//! A name is refused when it is:
//! - empty, or only dots (`.`, `..`, `...`): the directory itself, its parent, or a name that
//!   Windows shortens to nothing (it drops trailing dots);
//! - holding `/` or `\` (the directory separators of Unix and Windows), or any control
//!   character, NUL included (cut C strings short, break lines in tools' output);
//! - starting with `-`: tools given the path as an argument would read it as an option;
//! - longer than [`MAX_BYTES`].
//!
//! Names that differ only in case (`Web` and `web`) are distinct here but are one directory on
//! case-insensitive file systems (macOS, Windows); that is not refused.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::Span;

/// The longest name, in bytes (UTF-8). A file name may have 255 bytes on every file system
/// plat writes to (`NAME_MAX`); an emitter adds at most `manifest-` and `.yaml` (14 bytes) to a
/// name, so 200 leaves room for longer prefixes and suffixes to come. `tests/names.rs` (the
/// compiler's) builds a platform with names this long and checks every path segment.
pub const MAX_BYTES: usize = 200;

/// The diagnostic code of a name that is not a safe path segment.
pub const CODE: &str = "name::path-segment";

/// What the help line says is allowed.
const HELP: &str = "entity names become file and directory names in out/: at most 200 bytes of \
     any characters but `/`, `\\` and control characters, not starting with `-`, not only dots \
     (letters, digits, `-`, `_` and `.` are always safe)";

/// Why a name cannot be a path segment: the first problem found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The empty name.
    Empty,
    /// Only dots: `.`, `..`, `...`, ….
    Dots,
    /// A directory separator, `/` or `\`.
    Separator(char),
    /// A control character (NUL included).
    Control(char),
    /// A leading `-`.
    LeadingDash,
    /// Longer than [`MAX_BYTES`]; the length in bytes.
    TooLong(usize),
}

impl Problem {
    /// The end of the diagnostic's message: why the name is refused.
    fn reason(self) -> String {
        match self {
            Problem::Empty => "it is empty".into(),
            Problem::Dots => "it is only dots, like `.` and `..` (a directory, its parent)".into(),
            Problem::Separator('/') => "`/` separates directories".into(),
            Problem::Separator(_) => "`\\` separates directories on Windows".into(),
            Problem::Control(c) => format!("it holds the control character U+{:04X}", c as u32),
            Problem::LeadingDash => "a leading `-` reads as an option to tools".into(),
            Problem::TooLong(bytes) => {
                format!("it is {bytes} bytes long, more than {MAX_BYTES}")
            }
        }
    }
}

/// Checks that `name` can be one path segment of a generated file: `Err` holds the first
/// problem found, in the order of [`Problem`].
pub fn path_segment(name: &str) -> Result<(), Problem> {
    if name.is_empty() {
        return Err(Problem::Empty);
    }
    if name.bytes().all(|b| b == b'.') {
        return Err(Problem::Dots);
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '/' | '\\')) {
        return Err(Problem::Separator(c));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Problem::Control(c));
    }
    if name.starts_with('-') {
        return Err(Problem::LeadingDash);
    }
    if name.len() > MAX_BYTES {
        return Err(Problem::TooLong(name.len()));
    }
    Ok(())
}

/// The diagnostic code of a name that is a safe path segment but stands where the emitters
/// already write a file of their own.
pub const PATH_TAKEN: &str = "name::path-taken";

/// Where a `kind` entity named `name` would put its directory on top of a file or directory
/// the emitters write beside it: the path that would collide, with `<parent>` for the
/// enclosing entity. Entities of one kind never collide with each other (names are unique per
/// kind), and files inside an entity's directory carry a kind prefix (`service-`, `chart-`,
/// `manifest-`), so these are the only places two writers share a directory.
pub fn reserved(kind: &str, name: &str) -> Option<&'static str> {
    match (kind, name) {
        // `proxmox/<host>/` beside `proxmox/storage.cfg`.
        ("host", "storage.cfg") => Some("proxmox/storage.cfg"),
        // `kubernetes/<cluster>/<namespace>/` beside the cluster's own files and directory.
        ("namespace", "kubeadm") => Some("kubernetes/<cluster>/kubeadm/"),
        ("namespace", "secrets.required") => Some("kubernetes/<cluster>/secrets.required"),
        ("namespace", "kustomization.yaml") => Some("kubernetes/<cluster>/kustomization.yaml"),
        _ => None,
    }
}

/// The diagnostic for the `kind` entity `name`, declared at `span`, when it is not a path
/// segment, or one the emitters use already ([`reserved`]).
pub fn check(kind: &str, name: &str, span: Span) -> Option<Diagnostic> {
    if let Some(path) = path_segment(name).ok().and(reserved(kind, name)) {
        return Some(
            Diagnostic::error(
                PATH_TAKEN,
                span,
                format!(
                    "{kind} name {} is taken: plat writes `{path}` where this {kind}'s files would go",
                    shown(name)
                ),
            )
            .with_label("this name")
            .with_help("choose another name; the two would overwrite each other in out/"),
        );
    }
    let problem = path_segment(name).err()?;
    Some(
        Diagnostic::error(
            CODE,
            span,
            format!(
                "{kind} name {} cannot be a file name in out/: {}",
                shown(name),
                problem.reason()
            ),
        )
        .with_label("this name")
        .with_help(HELP),
    )
}

/// `name` for a message: quoted, control characters escaped, at most 40 characters.
fn shown(name: &str) -> String {
    const SHOWN: usize = 40;
    let mut text: String = name.chars().take(SHOWN).collect();
    if text.len() < name.len() {
        text.push('…');
    }
    format!("`{}`", text.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in [
            "cp-1",
            "web",
            "a",
            "pve1",
            "ingress-nginx",
            "x.y",
            ".hidden",
            "a..b",
            "v1.2.3",
            "with space",
            "ünïcode-名前",
            "trailing-",
            "_under",
        ] {
            assert_eq!(path_segment(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn traversal_and_separators_are_refused() {
        assert_eq!(path_segment(""), Err(Problem::Empty));
        for dots in [".", "..", "...", "...."] {
            assert_eq!(path_segment(dots), Err(Problem::Dots), "{dots:?}");
        }
        for (name, c) in [
            ("../../../victim", '/'),
            ("a/b", '/'),
            ("/", '/'),
            ("/etc", '/'),
            ("x/", '/'),
            ("..\\x", '\\'),
            ("a\\b", '\\'),
        ] {
            assert_eq!(path_segment(name), Err(Problem::Separator(c)), "{name:?}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for c in ['\0', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{85}'] {
            let name = format!("a{c}b");
            assert_eq!(path_segment(&name), Err(Problem::Control(c)), "{name:?}");
        }
    }

    #[test]
    fn a_leading_dash_is_refused() {
        assert_eq!(path_segment("-rf"), Err(Problem::LeadingDash));
        assert_eq!(path_segment("-"), Err(Problem::LeadingDash));
        assert_eq!(path_segment("a-"), Ok(()));
    }

    #[test]
    fn the_length_is_bounded_in_bytes() {
        assert_eq!(path_segment(&"a".repeat(MAX_BYTES)), Ok(()));
        assert_eq!(
            path_segment(&"a".repeat(MAX_BYTES + 1)),
            Err(Problem::TooLong(MAX_BYTES + 1))
        );
        // 100 two-byte characters fit exactly; one more does not.
        assert_eq!(path_segment(&"é".repeat(MAX_BYTES / 2)), Ok(()));
        assert_eq!(
            path_segment(&"é".repeat(MAX_BYTES / 2 + 1)),
            Err(Problem::TooLong(MAX_BYTES + 2))
        );
    }

    #[test]
    fn the_help_states_the_bound() {
        assert!(HELP.contains(&format!("at most {MAX_BYTES} bytes")));
    }

    #[test]
    fn the_diagnostic_names_the_kind_and_the_escaped_name() {
        let span = Span::default();
        assert!(check("vm", "cp-1", span).is_none());
        let diagnostic = check("namespace", "../../../victim", span).expect("refused");
        assert_eq!(diagnostic.code, CODE);
        assert_eq!(
            diagnostic.message,
            "namespace name `../../../victim` cannot be a file name in out/: \
             `/` separates directories"
        );
        assert_eq!(diagnostic.help.as_deref(), Some(HELP));
        let diagnostic = check("vm", "a\0b", span).expect("refused");
        assert_eq!(
            diagnostic.message,
            "vm name `a\\0b` cannot be a file name in out/: \
             it holds the control character U+0000"
        );
    }

    #[test]
    fn names_the_emitters_use_beside_an_entity_are_reserved() {
        let span = Span::default();
        for (kind, name) in [
            ("host", "storage.cfg"),
            ("namespace", "kubeadm"),
            ("namespace", "secrets.required"),
            ("namespace", "kustomization.yaml"),
        ] {
            let diagnostic = check(kind, name, span).expect("reserved");
            assert_eq!(diagnostic.code, PATH_TAKEN, "{kind} {name}");
        }
        // The same names are free for other kinds.
        assert!(check("vm", "kubeadm", span).is_none());
        assert!(check("node", "storage.cfg", span).is_none());
    }

    #[test]
    fn a_long_name_is_shortened_in_the_message() {
        let name = "x".repeat(1 << 20);
        let diagnostic = check("service", &name, Span::default()).expect("refused");
        assert!(diagnostic.message.len() < 200, "{}", diagnostic.message);
        assert!(diagnostic
            .message
            .contains(&format!("`{}…`", "x".repeat(40))));
    }
}
