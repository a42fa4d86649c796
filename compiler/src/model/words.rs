//! Model values in the operator's words, as the sources write them (`8GiB`, `tcp/udp`,
//! `control-plane`): shared by the model summary (`out/plat.model.json`) and `plat graph`,
//! which both sit above the model and must not borrow from each other.

use super::{Bytes, Proto, Role};

/// A size in the largest binary unit that divides it (`8GiB`, `1536MiB`, `1000B`).
pub fn size(bytes: Bytes) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    for unit in &units[..4] {
        if value == 0 || value % 1024 != 0 {
            return format!("{value}{unit}");
        }
        value /= 1024;
    }
    format!("{value}{}", units[4])
}

/// A protocol as the sources write it.
pub fn proto(proto: Proto) -> &'static str {
    match proto {
        Proto::Any => "any",
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
        Proto::TcpUdp => "tcp/udp",
        Proto::Icmp => "icmp",
    }
}

/// A node role as the sources write it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::ControlPlane => "control-plane",
        Role::Worker => "worker",
    }
}

/// A MAC as `BC:24:11:0A:0B:0C`.
pub fn mac(mac: &[u8; 6]) -> String {
    let bytes: Vec<String> = mac.iter().map(|b| format!("{b:02X}")).collect();
    bytes.join(":")
}

/// A list as `[a, b]`.
pub fn list<T: ToString>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(size(8 << 30), "8GiB");
        assert_eq!(size(1536 << 20), "1536MiB");
        assert_eq!(size(1000), "1000B");
        assert_eq!(size(0), "0B");
        assert_eq!(size(3 << 40), "3TiB");
    }
}
