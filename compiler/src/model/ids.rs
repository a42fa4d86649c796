//! Stable derived identifiers. Every identifier a target would otherwise randomise is a
//! blake3 hash of stable names (never of time, paths or order), so rebuilding never
//! changes it. Changing a derivation here changes every platform's output: don't.

use super::{At, Nic, Vm};

/// The Proxmox OUI that PVE itself uses for generated MACs (pve-cluster
/// `src/PVE/DataCenterConfig.pm`, `$PROXMOX_OUI = 'BC:24:11'`).
pub const PROXMOX_OUI: [u8; 3] = [0xbc, 0x24, 0x11];

fn hash(domain: &str, parts: &[&str]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"plat/");
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update(&[0]);
        hasher.update(part.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// The MAC of NIC `nic` of VM `vm`: the Proxmox OUI and three hash bytes.
pub fn mac(vm: &str, nic: &str) -> [u8; 6] {
    let h = hash("mac", &[vm, nic]);
    [
        PROXMOX_OUI[0],
        PROXMOX_OUI[1],
        PROXMOX_OUI[2],
        h[0],
        h[1],
        h[2],
    ]
}

/// A version-4-shaped UUID (RFC 9562 variant bits) derived from `purpose` and `name`.
pub fn uuid(purpose: &str, name: &str) -> String {
    let mut b = hash(purpose, &[name]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// A pfSense rule tracker in 100000000..=999999999, the range the factory rules use and
/// clear of GUI (epoch-based) and automatic rule trackers (reference/pfsense.md §7).
pub fn tracker(kind: &str, name: &str) -> u32 {
    let h = hash("tracker", &[kind, name]);
    let n = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    100_000_000 + n % 900_000_000
}

/// A short hex content hash (for cloud-init instance ids).
pub fn content_id(bytes: &[u8]) -> String {
    let h = blake3::hash(bytes);
    h.to_hex()[..16].to_string()
}

/// The MAC of NIC `slot` of VM `vm`: its `mac` when written, else derived ([`mac`]) with
/// `from_default` set and the NIC's span.
pub fn nic_mac(vm: &str, slot: &str, nic: &Nic) -> At<[u8; 6]> {
    match *nic.mac {
        Some(value) => At {
            value,
            span: nic.mac.span,
            from_default: nic.mac.from_default,
        },
        None => At {
            value: mac(vm, slot),
            span: nic.span,
            from_default: true,
        },
    }
}

impl Vm {
    /// The SMBIOS UUID (`smbios1: uuid=`), derived from the VM's name.
    pub fn smbios_uuid(&self) -> String {
        uuid("smbios", &self.name)
    }

    /// The VM generation id (`vmgenid`), derived from the VM's name.
    pub fn vmgenid(&self) -> String {
        uuid("vmgenid", &self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        assert_eq!(mac("cp-1", "net0"), mac("cp-1", "net0"));
        assert_ne!(mac("cp-1", "net0"), mac("cp-2", "net0"));
        let uuid = uuid("smbios", "cp-1");
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        let t = tracker("rule", "a");
        assert!((100_000_000..=999_999_999).contains(&t));
    }
}
