//! Names and UUIDs of the dm devices a plan creates, following the tools people know.
//!
//!   logical volume        name `VG-LV`, every '-' inside VG or LV doubled (lvm2)
//!                         uuid `LVM-<vg id><lv id>`, IDs without dashes (lvm2)
//!   partition N inside    name `<parent>N`, or `<parent>pN` when the parent's name ends
//!   a volume or disk      in a digit (kpartx); uuid `partN-<parent uuid>` (kpartx)
//!   the verity device     name `root`; uuid `CRYPT-VERITY-<32 hex>-root` (cryptsetup's
//!                         form, the hex from the superblock UUID or, without one, the
//!                         first 128 bits of the root hash)
//!   the signature key     `verinit:root:<root hash hex>`, a "user" key in verinit's
//!                         process keyring while the verity table is loaded

use crate::id::{encode_hex, LvmId, RootHash};

/// The name of the dm-verity device, and so `/dev/mapper/root`.
pub const VERITY_NAME: &str = "root";

/// The description of the keyring key that holds the root hash's signature while the
/// verity table that names it (`root_hash_sig_key_desc`) is loaded.
pub fn signature_key_description(root_hash: &RootHash) -> String {
    format!("verinit:root:{}", root_hash.to_hex())
}

/// lvm2's dm name for VG/LV.
pub fn lv_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

/// lvm2's dm UUID for an LV.
pub fn lv_uuid(vg: &LvmId, lv: &LvmId) -> String {
    format!("LVM-{}{}", vg.plain(), lv.plain())
}

/// kpartx's name for partition `number` of the device named `parent`.
pub fn partition_name(parent: &str, number: u32) -> String {
    let sep = if parent.ends_with(|c: char| c.is_ascii_digit()) {
        "p"
    } else {
        ""
    };
    format!("{parent}{sep}{number}")
}

/// kpartx's dm UUID for a partition of a device with dm UUID `parent_uuid`.
pub fn partition_uuid(parent_uuid: &str, number: u32) -> String {
    format!("part{number}-{parent_uuid}")
}

/// The verity device's dm UUID from 16 identifying bytes.
pub fn verity_uuid(id: &[u8; 16]) -> String {
    format!("CRYPT-VERITY-{}-{}", encode_hex(id), VERITY_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvm2_names_double_dashes() {
        assert_eq!(lv_name("vg0", "root"), "vg0-root");
        assert_eq!(lv_name("my-vg", "root-a"), "my--vg-root--a");
        let vg = LvmId::parse("AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG").unwrap();
        let lv = LvmId::parse("111111-2222-3333-4444-5555-6666-777777").unwrap();
        assert_eq!(
            lv_uuid(&vg, &lv),
            "LVM-AAAAAABBBBCCCCDDDDEEEEFFFFGGGGGG11111122223333444455556666777777"
        );
    }

    #[test]
    fn kpartx_names() {
        assert_eq!(partition_name("vg0-root", 1), "vg0-root1");
        assert_eq!(partition_name("vg0-root_a2", 1), "vg0-root_a2p1");
        assert_eq!(partition_name("loop0", 2), "loop0p2");
        assert_eq!(partition_uuid("LVM-xyz", 2), "part2-LVM-xyz");
        assert_eq!(
            verity_uuid(&[0xab; 16]),
            "CRYPT-VERITY-abababababababababababababababab-root"
        );
    }
}
