//! The tags of a prelude doc comment: `## impact: reboot` and `## summary: omit` lines, kept
//! apart from the prose. Shared, as source, by `compiler/build.rs` (which generates the model's
//! kinds from the prelude, `model::kinds`) and `docs.rs` (which renders the tags as their own
//! column), so both read a doc comment the same way. Plain `std` only: it is compiled into the
//! build script too.

/// The impact classes a field may declare (`## impact: CLASS`); `summary::impact::Impact`
/// maps each to its variant.
pub const IMPACTS: &[&str] = &[
    "in-place",
    "reboot",
    "cloud-init",
    "firewall",
    "rollout",
    "helm",
    "rejoin",
    "upgrade",
    "rebuild-cluster",
    "recreate",
];

/// A doc comment read into its prose and its tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocTags {
    /// The documentation without the tag lines, lines joined with `\n`.
    pub prose: String,
    /// `## impact: CLASS`, one of [`IMPACTS`] (checked by the build script).
    pub impact: Option<String>,
    /// False for `## summary: omit`: the field is kept out of `out/plat.model.json`.
    pub summary: bool,
}

/// Splits `doc` (the lines of a `##` comment, joined with `\n`) into prose and tags. A tag is a
/// whole line `impact: CLASS` or `summary: omit`.
pub fn split(doc: &str) -> DocTags {
    let mut tags = DocTags {
        summary: true,
        ..DocTags::default()
    };
    let mut prose = Vec::new();
    for line in doc.lines() {
        if let Some(class) = line.strip_prefix("impact: ") {
            tags.impact = Some(class.trim().to_string());
        } else if line.trim() == "summary: omit" {
            tags.summary = false;
        } else {
            prose.push(line);
        }
    }
    tags.prose = prose.join("\n");
    tags
}
