//! `scripts/gen-initramfs` read back by the real cpio (GNU cpio, Debian package `cpio`).
//!
//! Each test writes a small list in the kernel's gen_init_cpio format (directories, files, a
//! character and a block device, a symlink) into `$CARGO_TARGET_TMPDIR/initramfs_pack/<test>`,
//! packs it, and checks the archive with `cpio -itvn` (names in list order, modes, owners,
//! sizes, the `c 5 1` console, the link target) and `cpio -i --to-stdout` (contents). What
//! cpio does not print (inode numbers, mtimes, nlink, padding, the trailer) is read from the
//! newc headers here. Nothing needs root (device nodes exist only inside the archive) or the
//! kernel download: the staged-modules tree is a stand-in whose `modules.dep` has the shape
//! depmod writes (lines copied from Debian 6.1's).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-initramfs")
}

/// Fails, never skips, without python3 (runs the script) or cpio (checks it).
fn require_tools() {
    let path = std::env::var("PATH").unwrap_or_default();
    let missing: Vec<&str> = [("python3", "python3"), ("cpio", "cpio")]
        .iter()
        .filter(|(tool, _)| !path.split(':').any(|d| Path::new(d).join(tool).is_file()))
        .map(|(_, package)| *package)
        .collect();
    assert!(
        missing.is_empty(),
        "these tests need the Debian packages {}, not installed: run make deps",
        missing.join(", ")
    );
}

/// A fresh directory for one test.
fn workdir(test: &str) -> PathBuf {
    require_tools();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("initramfs_pack")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs gen-initramfs with `args`, in a clean environment plus `env`.
fn gen(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(script());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LC_ALL", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()))
}

fn gen_ok(args: &[&str], env: &[(&str, &str)]) {
    let out = gen(args, env);
    assert!(
        out.status.success(),
        "gen-initramfs {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn cpio_cmd(archive: &Path) -> Command {
    let mut cmd = Command::new("cpio");
    cmd.env("LC_ALL", "C")
        .env("TZ", "UTC")
        .stdin(fs::File::open(archive).unwrap());
    cmd
}

/// `cpio -it` with `flags`: one line per member, runs of blanks made one space.
fn cpio_list(archive: &Path, flags: &str) -> Vec<String> {
    let out = cpio_cmd(archive).args([flags, "--quiet"]).output().unwrap();
    assert!(
        out.status.success(),
        "cpio {flags} {}: {}",
        archive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn cpio_names(archive: &Path) -> Vec<String> {
    cpio_list(archive, "-it")
}

/// The contents of one member, as `cpio -i --to-stdout` extracts it.
fn cpio_contents(archive: &Path, name: &str) -> Vec<u8> {
    let out = cpio_cmd(archive)
        .args(["-i", "--to-stdout", "--quiet", name])
        .output()
        .unwrap();
    assert!(out.status.success(), "cpio -i --to-stdout {name} failed");
    out.stdout
}

/// A newc header as gen_init_cpio writes it (fields cpio -t does not show).
#[derive(Debug)]
struct Header {
    name: String,
    ino: u32,
    nlink: u32,
    mtime: u32,
    dev: (u32, u32),
}

fn newc_headers(bytes: &[u8]) -> Vec<Header> {
    let mut headers = Vec::new();
    let mut off = 0;
    let align = |n: usize| (n + 3) & !3;
    loop {
        let h = &bytes[off..off + 110];
        assert_eq!(&h[..6], b"070701", "bad magic at offset {off}");
        let field = |i: usize| {
            u32::from_str_radix(std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap(), 16)
                .unwrap()
        };
        let (namesize, filesize) = (field(11) as usize, field(6) as usize);
        let name = &bytes[off + 110..off + 110 + namesize];
        assert_eq!(name.last(), Some(&0), "name not NUL-terminated");
        headers.push(Header {
            name: String::from_utf8(name[..namesize - 1].to_vec()).unwrap(),
            ino: field(0),
            nlink: field(4),
            mtime: field(5),
            dev: (field(7), field(8)),
        });
        off = align(align(off + 110 + namesize) + filesize);
        if headers.last().unwrap().name == "TRAILER!!!" {
            assert_eq!(bytes.len() % 512, 0, "archive not padded to 512 bytes");
            assert!(
                bytes[off..].iter().all(|&b| b == 0),
                "data after the trailer"
            );
            return headers;
        }
    }
}

const HELLO: &[u8] = b"hello, initramfs\n"; // 17 bytes: padding follows

/// A list with one of each: its inputs are written into `dir`.
fn small_list(dir: &Path) -> PathBuf {
    fs::write(dir.join("hello"), HELLO).unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    let init: Vec<u8> = (0..=255u8).cycle().take(769).collect();
    fs::write(dir.join("init"), init).unwrap();
    let list = dir.join("small.list");
    fs::write(
        &list,
        format!(
            "# a comment, then a blank line\n\
             \n\
             dir /dev 0755 0 0\n\
             nod /dev/console 0600 0 0 c 5 1\n\
             nod /dev/vda 0660 0 6 b 254 0\n\
             dir /etc 0750 0 0\n\
             file /etc/hello ${{PACK_DIR}}/hello 0644 0 0\n\
             file /etc/empty ${{PACK_DIR}}/empty 0600 1000 1000\n\
             slink /etc/greeting hello 0777 0 0\n\
             file /init {} 0755 0 0\n",
            dir.join("init").display()
        ),
    )
    .unwrap();
    list
}

#[test]
fn dir_file_device_and_symlink_read_back_by_cpio() {
    let dir = workdir("read_back");
    let list = small_list(&dir);
    let archive = dir.join("small.cpio");
    gen_ok(&[s(&list), s(&archive)], &[("PACK_DIR", s(&dir))]);

    // As `cpio -itvn` prints them: mode, links, uid, gid, size or "major, minor", date, name.
    // gen_init_cpio stores a symlink's target with its NUL: 6 bytes for "hello".
    let expected = [
        "drwxr-xr-x 2 0 0 0 Jan 1 1970 dev",
        "crw------- 1 0 0 5, 1 Jan 1 1970 dev/console",
        "brw-rw---- 1 0 6 254, 0 Jan 1 1970 dev/vda",
        "drwxr-x--- 2 0 0 0 Jan 1 1970 etc",
        "-rw-r--r-- 1 0 0 17 Jan 1 1970 etc/hello",
        "-rw------- 1 1000 1000 0 Jan 1 1970 etc/empty",
        "lrwxrwxrwx 1 0 0 6 Jan 1 1970 etc/greeting -> hello",
        "-rwxr-xr-x 1 0 0 769 Jan 1 1970 init",
    ];
    assert_eq!(cpio_list(&archive, "-itvn"), expected);

    assert_eq!(cpio_contents(&archive, "etc/hello"), HELLO);
    assert_eq!(cpio_contents(&archive, "etc/empty"), b"");
    assert_eq!(
        cpio_contents(&archive, "init"),
        fs::read(dir.join("init")).unwrap()
    );

    let bytes = fs::read(&archive).unwrap();
    let headers = newc_headers(&bytes);
    let inos: Vec<u32> = headers.iter().map(|h| h.ino).collect();
    assert_eq!(inos, [721, 722, 723, 724, 725, 726, 727, 728, 0]);
    assert!(headers.iter().all(|h| h.mtime == 0), "{headers:?}");
    let trailer = headers.last().unwrap();
    assert_eq!((trailer.nlink, trailer.dev), (1, (0, 0)));
    assert!(headers[..8].iter().all(|h| h.dev == (3, 1)));
}

#[test]
fn same_list_gives_byte_identical_archives() {
    let dir = workdir("deterministic");
    let list = small_list(&dir);
    let env = [("PACK_DIR", s(&dir))];
    let (a, b) = (dir.join("a.cpio"), dir.join("b.cpio"));
    gen_ok(&[s(&list), s(&a)], &env);
    // An input's own mtime does not reach the archive.
    let later = SystemTime::now() + Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(dir.join("hello"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    gen_ok(&[s(&list), s(&b)], &env);
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "two runs on the same list differ"
    );

    // SOURCE_DATE_EPOCH sets every mtime but the trailer's; cpio shows the date.
    let c = dir.join("c.cpio");
    gen_ok(
        &[s(&list), s(&c)],
        &[("PACK_DIR", s(&dir)), ("SOURCE_DATE_EPOCH", "1700000000")],
    );
    let headers = newc_headers(&fs::read(&c).unwrap());
    let (trailer, members) = headers.split_last().unwrap();
    assert!(members.iter().all(|h| h.mtime == 1_700_000_000));
    assert_eq!(trailer.mtime, 0);
    let listing = cpio_list(&c, "-itvn");
    assert!(
        listing.iter().all(|l| l.contains(" Nov 14 2023 ")),
        "{listing:?}"
    );
}

/// Bad lists: (what, list text, what stderr must say after "bad.list"). `@FILE` stands for
/// a readable file, `@DIR` for a directory.
#[rustfmt::skip]
const REFUSED: &[(&str, &str, &[&str])] = &[
    ("unknown type", "dir /a 0755 0 0\nfrob /a/x 0755 0 0\n", &[":2: unknown entry type 'frob'"]),
    // Near misses of a real type and of a comment.
    ("dirs", "dirs /a 0755 0 0\n", &[":1: unknown entry type 'dirs'"]),
    ("indented comment", "  # x\n", &[":1: a comment must start in the first column"]),
    ("missing file", "file /init /nonexistent/verinit 0755 0 0\n",
     &[":1: /init: cannot read /nonexistent/verinit: No such file or directory"]),
    ("unset variable", "file /init ${NOT_SET_ANYWHERE}/verinit 0755 0 0\n",
     &[":1: ${NOT_SET_ANYWHERE}/verinit: ${NOT_SET_ANYWHERE} not set"]),
    ("directory as file", "file /init @DIR 0755 0 0\n", &[":1: /init: @DIR is not a regular file"]),
    ("device type", "nod /console 0600 0 0 x 5 1\n",
     &[":1: device type 'x' must be b (block) or c (character)"]),
    ("too few fields", "dir /a 0755 0\n", &[":1: dir takes 4 fields (name mode uid gid), found 3"]),
    ("too many fields", "nod /console 0600 0 0 c 5 1 1\n", &[":1: nod takes 7 fields"]),
    ("octal mode", "dir /a 0855 0 0\n", &[":1: mode must be octal"]),
    ("no parent", "file /lib/x.ko @FILE 0644 0 0\n", &[":1: /lib/x.ko: no earlier dir line creates /lib"]),
    ("parent after", "file /lib/x.ko @FILE 0644 0 0\ndir /lib 0755 0 0\n",
     &[":1: /lib/x.ko: no earlier dir line creates /lib"]),
    ("trailing slash", "dir /a 0755 0 0\ndir /a/ 0755 0 0\n", &[":2: name '/a/' is not a plain path"]),
    ("dot dot", "dir /a 0755 0 0\ndir /a/.. 0755 0 0\n", &[":2: name '/a/..' is not a plain path"]),
    ("twice", "dir /a 0755 0 0\nfile /a @FILE 0644 0 0\n", &[":2: /a is already in the archive"]),
    ("all at once", "frob /x 0 0 0\nfile /init /nonexistent/verinit 0755 0 0\ndir /a 0755 0\n",
     &[":1: unknown entry type", ":2: /init: cannot read", ":3: dir takes"]),
];

/// Each list is refused with every problem named by file and line, and no archive is left.
#[test]
fn bad_lists_are_refused_naming_each_line() {
    let dir = workdir("refused");
    let file = dir.join("present");
    fs::write(&file, b"x").unwrap();
    let fill = |t: &str| t.replace("@FILE", s(&file)).replace("@DIR", s(&dir));
    for (what, text, wanted) in REFUSED {
        let (list, archive) = (dir.join("bad.list"), dir.join("bad.cpio"));
        fs::write(&list, fill(text)).unwrap();
        let out = gen(&[s(&list), s(&archive)], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        for w in *wanted {
            let w = format!("bad.list{}", fill(w));
            assert!(stderr.contains(&w), "{what}: stderr lacks {w:?}:\n{stderr}");
        }
        assert!(!archive.exists(), "{what}: an archive was written");
    }
}

/// A stand-in for `scripts/fetch-kernel`'s staged tree: modules.dep in load order.
const KVER: &str = "6.1.0-test-amd64";
const MODULES_DEP: &str = "\
kernel/drivers/md/dm-mod.ko:
kernel/lib/reed_solomon/reed_solomon.ko:
kernel/drivers/md/dm-bufio.ko: kernel/drivers/md/dm-mod.ko
kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko kernel/lib/reed_solomon/reed_solomon.ko
kernel/fs/squashfs/squashfs.ko:
";

fn staged_modules(dir: &Path) -> PathBuf {
    let root = dir.join("modules");
    let kdir = root.join("lib/modules").join(KVER);
    for line in MODULES_DEP.lines() {
        let rel = line.split(':').next().unwrap();
        let path = kdir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("stand-in for {rel}\n")).unwrap();
    }
    fs::write(kdir.join("modules.dep"), MODULES_DEP).unwrap();
    root
}

/// What `--modules` appends after the list's own entries, in order (`K` is
/// `lib/modules/<KVER>`): each directory before the first module in it.
const MODULE_MEMBERS: [&str; 16] = [
    "lib",
    "lib/modules",
    "K",
    "K/kernel",
    "K/kernel/drivers",
    "K/kernel/drivers/md",
    "K/kernel/drivers/md/dm-mod.ko",
    "K/kernel/lib",
    "K/kernel/lib/reed_solomon",
    "K/kernel/lib/reed_solomon/reed_solomon.ko",
    "K/kernel/drivers/md/dm-bufio.ko",
    "K/kernel/drivers/md/dm-verity.ko",
    "K/kernel/fs",
    "K/kernel/fs/squashfs",
    "K/kernel/fs/squashfs/squashfs.ko",
    "K/modules.dep",
];

/// The names in an archive of `dev`, `init` and the modules, but those `leave_out` matches.
fn names_without(leave_out: impl Fn(&str) -> bool) -> Vec<String> {
    let base = format!("lib/modules/{KVER}");
    let modules = MODULE_MEMBERS.iter().filter(|m| !leave_out(m)).map(|m| {
        m.strip_prefix('K')
            .map_or(m.to_string(), |rest| format!("{base}{rest}"))
    });
    ["dev".to_string(), "init".to_string()]
        .into_iter()
        .chain(modules)
        .collect()
}

/// Packs `list` with the staged `modules` and `extra` options into `out`.
fn pack_modules(list: &Path, modules: &Path, extra: &[&str], out: &Path, bin: &Path) -> Output {
    let mut args = vec!["--modules", s(modules)];
    args.extend_from_slice(extra);
    args.extend([s(list), s(out)]);
    gen(&args, &[("VERINIT_BIN", s(bin))])
}

#[test]
fn modules_follow_modules_dep_and_can_be_left_out() {
    let dir = workdir("modules");
    let modules = staged_modules(&dir);
    let bin = dir.join("verinit");
    fs::write(&bin, b"stand-in for verinit").unwrap();
    let list = dir.join("fixed.list");
    let fixed = "dir /dev 0755 0 0\nfile /init ${VERINIT_BIN} 0755 0 0\n";
    fs::write(&list, fixed).unwrap();
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let (archive, full_list) = (dir.join("full.cpio"), dir.join("full.list"));
    ok(pack_modules(
        &list,
        &modules,
        &["--list-out", s(&full_list)],
        &archive,
        &bin,
    ));
    assert_eq!(cpio_names(&archive), names_without(|_| false));
    let dep = format!("lib/modules/{KVER}/modules.dep");
    assert_eq!(cpio_contents(&archive, &dep), MODULES_DEP.as_bytes());
    let verity = format!("lib/modules/{KVER}/kernel/drivers/md/dm-verity.ko");
    assert_eq!(
        cpio_contents(&archive, &verity),
        b"stand-in for kernel/drivers/md/dm-verity.ko\n"
    );

    // The written list stands alone (absolute paths, no variables): it packs the same archive
    // with an empty environment, as the kernel's CONFIG_INITRAMFS_SOURCE would use it.
    let text = fs::read_to_string(&full_list).unwrap();
    assert!(!text.contains("${"), "{text}");
    let again = dir.join("again.cpio");
    gen_ok(&[s(&full_list), s(&again)], &[]);
    assert!(fs::read(&again).unwrap() == fs::read(&archive).unwrap());

    // Leaving out dm-verity (named as the kernel does, with _): its file and its modules.dep
    // line go, the rest stays.
    let without = dir.join("without-verity.cpio");
    ok(pack_modules(
        &list,
        &modules,
        &["--exclude", "dm_verity"],
        &without,
        &bin,
    ));
    assert_eq!(
        cpio_names(&without),
        names_without(|m| m.ends_with("dm-verity.ko"))
    );
    let dep_wanted: String = MODULES_DEP
        .lines()
        .filter(|l| !l.starts_with("kernel/drivers/md/dm-verity.ko"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(cpio_contents(&without, &dep), dep_wanted.as_bytes());

    // Leaving out dm-mod takes what needs it (dm-bufio, dm-verity), and their directories.
    let without_dm = dir.join("without-dm.cpio");
    ok(pack_modules(
        &list,
        &modules,
        &["--exclude", "dm-mod"],
        &without_dm,
        &bin,
    ));
    assert_eq!(
        cpio_names(&without_dm),
        names_without(|m| m.contains("/drivers"))
    );

    // A module that is not staged is an error naming it and what is staged.
    let out = pack_modules(
        &list,
        &modules,
        &["--exclude", "dm-veritas"],
        &dir.join("x.cpio"),
        &bin,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--exclude dm-veritas: not in"), "{stderr}");
    assert!(stderr.contains("dm_verity"), "{stderr}");
}

/// The repository's own list packs, with a stand-in for the binary.
#[test]
fn repository_list_packs_with_a_stand_in_binary() {
    let dir = workdir("repository_list");
    let bin = dir.join("verinit");
    fs::write(&bin, b"stand-in for verinit").unwrap();
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("initramfs/initramfs.list");
    let archive = dir.join("initramfs.cpio");
    gen_ok(&[s(&list), s(&archive)], &[("VERINIT_BIN", s(&bin))]);
    let listing = cpio_list(&archive, "-itvn");
    for wanted in [
        "drwxr-xr-x 2 0 0 0 Jan 1 1970 dev",
        "crw------- 1 0 0 5, 1 Jan 1 1970 dev/console",
        "drwxr-xr-x 2 0 0 0 Jan 1 1970 proc",
        "drwxr-xr-x 2 0 0 0 Jan 1 1970 sys",
        "drwxr-xr-x 2 0 0 0 Jan 1 1970 sysroot",
        "-rwxr-xr-x 1 0 0 20 Jan 1 1970 init",
    ] {
        assert!(
            listing.iter().any(|l| l == wanted),
            "no {wanted:?} in {listing:?}"
        );
    }
    assert_eq!(cpio_contents(&archive, "init"), b"stand-in for verinit");
}
