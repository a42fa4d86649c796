//! The one namespace pfSense keeps for interface descriptions and alias names: what makes a
//! name valid there and how a wanted name is turned into a valid, unused one.
//!
//! Tests: `tests` below.

use std::collections::BTreeSet;

/// pf keywords and pfSense table names an interface description or alias name must not be
/// (pfSense `src/etc/inc/globals.inc`, `$pf_reserved_keywords` and `$reserved_table_names`,
/// checked by `pfsense-utils.inc` `get_pf_reserved`), plus `port` and `pass`
/// (`util.inc` `is_validaliasname`).
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "all", "allow-opts", "altq", "anchor", "antispoof", "any", "bandwidth", "binat",
    "binat-anchor", "bitmask", "block", "block-policy", "buckets", "cbq", "code", "codelq",
    "crop", "debug", "divert-reply", "divert-to", "dnpipe", "dnqueue", "drop", "drop-ovl",
    "dup-to", "ether", "fail-policy", "fairq", "fastroute", "file", "fingerprints", "flags",
    "floating", "flush", "for", "fragment", "from", "global", "group", "hfsc", "hogs", "hostid",
    "icmp-type", "icmp6-type", "if-bound", "in", "include", "inet", "inet6", "interval", "keep",
    "keepcounters", "l3", "label", "limit", "linkshare", "load", "log", "loginterface",
    "map-e-portset", "match", "max", "max-mss", "max-src-conn", "max-src-conn-rate",
    "max-src-nodes", "max-src-states", "min-ttl", "modulate", "nat", "nat-anchor", "no",
    "no-df", "no-route", "no-sync", "on", "optimization", "os", "out", "overload", "pass",
    "port", "prio", "priority", "priq", "probability", "proto", "qlimit", "queue", "quick",
    "random", "random-id", "rdr", "rdr-anchor", "realtime", "reassemble", "reply-to",
    "require-order", "return", "return-icmp", "return-icmp6", "return-rst", "ridentifier",
    "round-robin", "route", "route-to", "rtable", "rule", "ruleset-optimization", "scrub",
    "set", "set-tos", "skip", "sloppy", "source-hash", "source-track", "state",
    "state-defaults", "state-policy", "static-port", "sticky-address", "syncookies", "synproxy",
    "table", "tag", "tagged", "target", "tbrsize", "timeout", "to", "tos", "ttl", "upperlimit",
    "urpf-failed", "user", "allowopts", "binatanchor", "blockpolicy", "divertreply", "divertto",
    "duptoicmptype", "icmp6type", "ifboundmaxmss", "maxsrcconn", "maxsrcconnrate",
    "maxsrcnodes", "maxsrcstates", "minttl", "natanchornodf", "noroute", "nosync",
    "randomidrdranchor", "replyto", "requireorderreturnicmp", "returnicmp6",
    "returnrstroundrobinrouteto", "ruleset_optimization", "settos", "sourcehash",
    "sourcetrackstatedefaults", "statepolicy", "staticport", "stickyaddress", "urpffailed",
    "dropovl", "failpolicy", "mapeportset", "arrow", "codel", "error", "filename", "fragcrop",
    "fragdrop", "ipsec", "l2tp", "maximummin", "openvpn", "pppoe", "pptp", "bogons", "bogonsv6",
    "negate_networks", "snort2c", "sshguard", "tonatsubnets", "virusprot", "vpn_networks",
];

/// The one namespace of interface descriptions and alias names (pfSense compares them
/// case-insensitively, `interfaces.php` and `alias-utils.inc`).
pub struct Names {
    taken: BTreeSet<String>,
    keys: BTreeSet<String>,
}

impl Names {
    /// An empty namespace for a config with the interface keys `keys`.
    pub fn new(keys: &[String]) -> Names {
        let mut keys_upper = BTreeSet::new();
        for key in keys {
            keys_upper.insert(key.to_uppercase());
            keys_upper.insert(format!("{}__NETWORK", key.to_uppercase()));
        }
        Names {
            taken: BTreeSet::new(),
            keys: keys_upper,
        }
    }

    /// A valid unused name close to `wanted`: characters outside `[A-Za-z0-9_]` become `_`,
    /// at most 31 characters; when that is reserved, taken, all digits or underscores, or
    /// starts with `pkg_`, a short hash of `wanted` is appended. `own_key` is the interface
    /// key whose description this is (it may equal its own key in upper case).
    pub fn claim(&mut self, wanted: &str, own_key: Option<&str>) -> String {
        let base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(31)
            .collect();
        let mut candidate = base.clone();
        let mut round = 0u32;
        while !self.usable(&candidate, own_key) {
            let stem: String = base.chars().take(24).collect();
            let hash = blake3::hash(format!("{wanted}\0{round}").as_bytes());
            candidate = format!("{stem}_{}", &hash.to_hex()[..6]);
            round += 1;
        }
        self.taken.insert(candidate.to_uppercase());
        candidate
    }

    fn usable(&self, name: &str, own_key: Option<&str>) -> bool {
        let upper = name.to_uppercase();
        let own = own_key.is_some_and(|k| k.to_uppercase() == upper);
        !name.chars().all(|c| c == '_' || c.is_ascii_digit())
            && !upper.starts_with("PKG_")
            && !self.taken.contains(&upper)
            && (own || !self.keys.contains(&upper))
            && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_unique() {
        let keys = vec!["wan".to_string(), "lan".to_string(), "opt1".to_string()];
        let mut names = Names::new(&keys);
        assert_eq!(names.claim("WAN", Some("wan")), "WAN");
        assert_eq!(names.claim("vm_cp-1", None), "vm_cp_1");
        let clash = names.claim("vm_cp_1", None);
        assert!(
            clash.starts_with("vm_cp_1_") && clash.len() == 14,
            "{clash}"
        );
        let reserved = names.claim("TABLE", Some("opt1"));
        assert!(reserved.starts_with("TABLE_"), "{reserved}");
        let key = names.claim("OPT1", Some("lan"));
        assert_ne!(key, "OPT1");
        let long = names.claim(&"x".repeat(40), None);
        assert_eq!(long.len(), 31);
    }
}
