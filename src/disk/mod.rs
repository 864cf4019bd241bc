//! What is on a block device, read from its bytes: which devices there are (`devices`),
//! how their bytes are read (`source`), their GPT (`gpt_table`, with `crc32`) and the
//! Discoverable Partitions meaning of its type GUIDs (`dps`), the filesystem at the start
//! of a volume (`fs_probe`), and where a volume's sectors live on the devices (`layout`;
//! `layout_reader` reads them back). LVM has its own stage (`crate::lvm`); `crate::scan`
//! puts it all together.

pub mod crc32;
pub mod devices;
pub mod dps;
pub mod fs_probe;
pub mod gpt_table;
pub mod layout;
pub mod layout_reader;
pub mod source;
