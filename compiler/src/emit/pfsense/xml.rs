//! A tiny XML tree and writer that produces text shaped like pfSense's own writer
//! (pfsense `src/etc/inc/xmlparse.inc`, `dump_xml_config_sub`): tab indentation, one element
//! per line, empty elements as `<x></x>` (pfSense's "present" boolean), and CDATA for the
//! fields pfSense writes as CDATA (`is_cdata_entity`). A dedicated writer instead of
//! quick-xml's `Writer` because those three shapes are exactly what pfSense writes and
//! quick-xml's writer would emit `<x/>` and cannot pick CDATA by element name; quick-xml
//! still does the XML escaping.
//!
//! Escaping, exactly as pfSense reads it back (`xmlparse.inc` `cData`): the XML parser decodes
//! the XML layer, then pfSense runs `html_entity_decode` on every chunk of character data.
//! Plain text is therefore XML-escaped once (the parser delivers each entity as its own
//! chunk, so decoding again cannot change it); CDATA content is not XML-decoded, so it is
//! HTML-escaped inside the CDATA section, as pfSense's writer does (`htmlentities`), which
//! also keeps `]]>` out of it.
//!
//! Tests: `tests` below.

use quick_xml::escape::escape;

/// An element: a name and either text or child elements.
#[derive(Clone, Debug, PartialEq)]
pub struct El {
    name: String,
    body: Body,
}

#[derive(Clone, Debug, PartialEq)]
enum Body {
    Text(String),
    Children(Vec<El>),
}

impl El {
    /// An element that will hold children (written `<name></name>` while it has none).
    pub fn new(name: impl Into<String>) -> El {
        El {
            name: name.into(),
            body: Body::Children(Vec::new()),
        }
    }

    /// A text element.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> El {
        El {
            name: name.into(),
            body: Body::Text(value.into()),
        }
    }

    /// A present boolean: `<name></name>` (pfSense tests these with `isset`).
    pub fn flag(name: impl Into<String>) -> El {
        El::text(name, "")
    }

    /// This element with `child` appended.
    pub fn with(mut self, child: El) -> El {
        self.push(child);
        self
    }

    /// This element with `children` appended.
    pub fn with_all(mut self, children: impl IntoIterator<Item = El>) -> El {
        for child in children {
            self.push(child);
        }
        self
    }

    /// Appends `child`. A text element turns into a parent (its text is dropped); callers
    /// build parents with [`El::new`], so this does not happen in practice.
    pub fn push(&mut self, child: El) {
        match &mut self.body {
            Body::Children(children) => children.push(child),
            Body::Text(_) => self.body = Body::Children(vec![child]),
        }
    }
}

/// Fields pfSense writes as CDATA: every element whose name starts with one of these
/// (`xmlparse.inc` `is_cdata_entity`).
const CDATA_PREFIXES: &[&str] = &[
    "aclname",
    "auth_pass",
    "auth_prompt",
    "auth_user",
    "certca",
    "certname",
    "city",
    "common_name",
    "descr",
    "detail",
    "email",
    "encryption_password",
    "hint",
    "ldap_attr",
    "ldap_authcn",
    "ldap_basedn",
    "ldap_basedomain",
    "ldap_bind",
    "ldapbinddn",
    "ldapbindpass",
    "ldap_extended_query",
    "ldap_filter",
    "ldap_pam_groupdn",
    "ldap_pass",
    "ldap_user",
    "login_banner",
    "organization",
    "password",
    "rangedescr",
    "state",
    "text",
    "username",
    "varusersusername",
    "varuserspassword",
];

fn is_cdata(name: &str) -> bool {
    CDATA_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// PHP's `htmlentities($s, ENT_QUOTES)` for the characters it changes in ASCII text; other
/// characters are left as UTF-8, which `html_entity_decode` leaves alone.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            c => out.push(c),
        }
    }
    out
}

fn write(el: &El, depth: usize, out: &mut String) {
    let indent = "\t".repeat(depth);
    let name = &el.name;
    match &el.body {
        Body::Text(text) if text.is_empty() => {
            out.push_str(&format!("{indent}<{name}></{name}>\n"))
        }
        Body::Text(text) if is_cdata(name) => out.push_str(&format!(
            "{indent}<{name}><![CDATA[{}]]></{name}>\n",
            html_escape(text)
        )),
        Body::Text(text) => out.push_str(&format!(
            "{indent}<{name}>{}</{name}>\n",
            escape(text.as_str())
        )),
        Body::Children(children) if children.is_empty() => {
            out.push_str(&format!("{indent}<{name}></{name}>\n"))
        }
        Body::Children(children) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for child in children {
                write(child, depth + 1, out);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
    }
}

/// The document: XML declaration, a comment line, then `root`.
pub fn document(comment: &str, root: &El) -> String {
    let mut out = format!("<?xml version=\"1.0\"?>\n<!-- {comment} -->\n");
    write(root, 0, &mut out);
    out
}

/// Standard base64 with padding (RFC 4648 §4), for the fields pfSense stores base64-encoded
/// (`authorizedkeys`); a few lines here rather than a dependency.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Read access for tests.
#[cfg(test)]
impl El {
    /// The children named `name`, in order.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        let all: &[El] = match &self.body {
            Body::Children(children) => children,
            Body::Text(_) => &[],
        };
        all.iter().filter(move |c| c.name == name)
    }

    /// The text of this element (`None` for a parent).
    pub fn value(&self) -> Option<&str> {
        match &self.body {
            Body::Text(text) => Some(text),
            Body::Children(_) => None,
        }
    }

    /// The text of the child at `path` (`/`-separated names, first match at each step).
    pub fn get<'a>(&'a self, path: &str) -> Option<&'a str> {
        let mut el = self;
        for step in path.split('/') {
            el = match &el.body {
                Body::Children(children) => children.iter().find(|c| c.name == step)?,
                Body::Text(_) => return None,
            };
        }
        el.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_pfsense() {
        let root = El::new("pfsense")
            .with(El::text("hostname", "fw1"))
            .with(El::flag("enable"))
            .with(El::new("aliases"))
            .with(El::new("rule").with(El::text("descr", "a <b> & 'c' ]]>")))
            .with(El::text("domain", "x&y<z"));
        let text = document("generated", &root);
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?>\n<!-- generated -->\n<pfsense>\n\t<hostname>fw1</hostname>\n\
             \t<enable></enable>\n\t<aliases></aliases>\n\t<rule>\n\
             \t\t<descr><![CDATA[a &lt;b&gt; &amp; &#039;c&#039; ]]&gt;]]></descr>\n\t</rule>\n\
             \t<domain>x&amp;y&lt;z</domain>\n</pfsense>\n"
        );
    }

    #[test]
    fn cdata_follows_pfsense_prefixes() {
        assert!(is_cdata("descr"));
        assert!(is_cdata("description"));
        assert!(is_cdata("detail"));
        assert!(!is_cdata("hostname"));
        assert!(!is_cdata("address"));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn get_follows_paths() {
        let el = El::new("a").with(El::new("b").with(El::text("c", "v")));
        assert_eq!(el.get("b/c"), Some("v"));
        assert_eq!(el.get("b/d"), None);
    }
}
