"""Disks and partitions: mkfs, mke2fs, mkswap, wipefs, the partitioners (fdisk, sfdisk, gdisk,
sgdisk, parted, diskutil), blkdiscard and ``dd of=``.

Formatting, repartitioning or writing raw blocks to a disk loses everything on it and can take
the machine down: a ``destroy`` tagged ``device`` and ``system-disruption``. The same tools run on
a disk image file (``mkfs.ext4 disk.img``) change only that file, judged by where it is. Listing,
dumping a partition table and dry runs (``mke2fs -n``) read. A target that is not plainly an image
file (a variable, a mount point) is taken to be a disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.filesystem import DISRUPTION, write_effect
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.analyze.paths import path_info
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_DISK_TOOLS = frozenset({
    "mkfs", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "gdisk", "sgdisk", "cgdisk", "parted",
    "cfdisk", "blkdiscard", "mkdosfs", "mkntfs", "newfs", "diskutil", "format",
})  # fmt: skip
_DISK_READS = frozenset({"-l", "--list", "print", "-p", "--print", "list", "info", "-v", "--version",
                         "--help", "-h", "-s", "--show", "-n", "--no-act", "-V"})  # fmt: skip


_PARTITION_TOOLS = frozenset(
    {"fdisk", "sfdisk", "gdisk", "sgdisk", "parted", "diskutil", "wipefs", "blkdiscard"}
)


def _disk(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    argv = [w.text for w in inv.args]
    if set(argv) & {"--help", "-h", "--version", "-V"} and len(argv) <= 3:
        yield effect(
            inv, Verb.READ, Target("program", inv.name), f"show {inv.name}'s help or version"
        )
        return
    reads = _ONLY_READS.get(inv.name, _DISK_READS | _TOOL_READS.get(inv.name, frozenset()))
    reading = set(argv) & reads or (inv.name == "diskutil" and not set(argv[:2]) & _DISKUTIL_ERASE)
    writing = bool(set(argv) & _TOOL_WRITES.get(inv.name, frozenset()))
    dry = "-n" in argv and inv.name.startswith(("mkfs.ext", "mke2fs"))  # mke2fs(8): -n, no action
    if (inv.name in _PARTITION_TOOLS and reading and not writing) or dry:
        yield effect(
            inv, Verb.READ, Target("device", " ".join(argv[-1:])), "read the partition table"
        )
        return
    devices = [w for w in inv.args if _names_device(w.text)]
    valued = _MKFS_VALUED if inv.name.startswith(("mkfs", "mke2fs", "mkswap")) else _PARTED_VALUED
    operands = disk_operands(inv.args, valued)
    if not devices and not operands:  # no disk named: the tool prints its usage
        yield effect(inv, Verb.READ, Target("program", inv.name), f"show {inv.name}'s usage")
        return
    for word in devices or operands[:1]:
        yield _formatted(inv, ctx, word)


def disk_operands(args: Iterable[Word], valued: frozenset[str]) -> list[Word]:
    operands: list[Word] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word.text in valued:
            skip = True
        elif not word.text.startswith("-"):
            operands.append(word)
    return operands


def _names_device(text: str) -> bool:
    """``/dev/sda1``, macOS ``disk2s1``, a Windows drive ``C:``."""
    return "/dev/" in text or bool(re.fullmatch(r"r?disk\d+(s\d+)?|[A-Za-z]:\\?", text))


def _formatted(inv: Invocation, ctx: Analysis, word: Word) -> Effect:
    """Formatting or partitioning ``word``: a disk, or a disk image file named as one. Anything
    that is not plainly an image file (a variable, a mount point) is taken to be a disk."""
    info = path_info(word, ctx)
    image = (
        not word.dynamic and not _names_device(word.text) and _IMAGE.search(word.text) is not None
    )
    if not image:
        return effect(inv, Verb.DESTROY, Target("device", word.text), f"format or repartition {word.text}; its data is lost",
                      scope=Scope.LOCAL, reversibility=Reversibility.IRREVERSIBLE, tags={"device", DISRUPTION})  # fmt: skip
    return effect(inv, Verb.DESTROY, Target("path", info.resolved), f"format or repartition the image file {word.text}",
                  scope=Scope.LOCAL, reversibility=Reversibility.IRREVERSIBLE, tags=info.tags)  # fmt: skip


_IMAGE = re.compile(
    r"(\.(img|iso|raw|bin|dd|qcow2?|vhdx?|vmdk|vdi|dmg|sparseimage|fs|ext[234])|swap(file)?)$", re.I
)
# Per tool: options that only print (sfdisk -d dumps the table) or that write despite a print option.
_TOOL_READS = {
    "sfdisk": frozenset({"-d", "--dump", "-J", "--json", "-g", "--show-geometry", "--verify"}),
    "sgdisk": frozenset({"-b", "--backup", "-v", "--verify", "-i", "--info", "-O", "--print-mbr"}),
}
# Tools whose only printing option is this (gdisk(8): -l; any other option still opens the disk).
_ONLY_READS = {
    "gdisk": frozenset({"-l", "--list"}),
    "cgdisk": frozenset({"-l", "--list"}),
}
_TOOL_WRITES = {
    "parted": frozenset({"rm", "mklabel", "mkpart", "resizepart", "name", "set", "toggle"}),
    "sgdisk": frozenset({"-Z", "--zap-all", "-z", "--zap", "-o", "--clear", "-d", "--delete", "-n",
                         "--new", "-l", "--load-backup", "-t", "--typecode", "-g", "--mbrtogpt",
                         "-m", "--gpttombr", "-R", "--replicate"}),
}  # fmt: skip
_PARTED_VALUED = frozenset({"-a", "--align"})
_MKFS_VALUED = frozenset({  # mke2fs(8) and friends: options that take a value
    "-t", "--type", "-L", "--label", "-b", "-i", "-m", "-C", "-d", "-E", "-g", "-G", "-I", "-J",
    "-M", "-N", "-o", "-O", "-r", "-T", "-U", "-e", "-z",
})  # fmt: skip
# diskutil(8) verbs that erase or repartition; its other verbs list, mount, eject or repair.
_DISKUTIL_ERASE = frozenset({
    "eraseDisk", "eraseVolume", "reformat", "partitionDisk", "zeroDisk", "randomDisk",
    "secureErase", "splitPartition", "mergePartitions", "resizeVolume", "deleteContainer",
    "deleteVolume", "eraseContainer", "addPartition", "deleteSnapshot",
})  # fmt: skip


def _dd(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    for word in inv.args:
        if word.text.startswith("of="):
            found = write_effect(
                inv,
                ctx,
                Word(word.text[3:], word.dynamic),
                how="write raw blocks to",
                overwrite=True,
            )
            if found is not None:
                yield found


_MKFS_NAMES = [f"mkfs.{fs}" for fs in ("ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "fat", "ntfs",
                                      "exfat", "f2fs", "msdos", "minix")]  # fmt: skip

FAMILIES = (
    CommandFamily.of(["dd"], _dd),
    CommandFamily.of([*_DISK_TOOLS, *_MKFS_NAMES], _disk),
)
