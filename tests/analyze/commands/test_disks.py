"""Disks and partitions: a disk is denied, an image file is a file, listings and dry runs read."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("mkfs.ext4 disk.img", "allow"),  # an image file in the workspace
        ("mkfs /tmp/test.img", "allow"),
        ("fdisk /tmp/test.img", "allow"),
        ("mkfs.ext4", "allow"),  # prints usage
        ("mkfs.ext4 -n /dev/sda1", "allow"),  # mke2fs -n: no action
        ("sfdisk -d /dev/sda", "allow"),  # dump the table
        ("format disk --help", "allow"),
        ("diskutil unmountDisk /dev/disk2", "allow"),
        ("mkfs.ext4 -L data /dev/sdb1", "deny"),
        ('mkfs.ext4 "$DISK"', "deny"),  # not plainly an image: a disk
        ("mkfs.ext4 /mnt/external", "deny"),
        ("wipefs -a /dev/sdb", "deny"),
        ("sgdisk -p --zap-all /dev/sda", "deny"),
        ("diskutil eraseDisk APFS Blank disk2", "deny"),
    ],
)
def test_disk_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gdisk -l /dev/sda", "allow"),  # gdisk's only listing option
        ("gdisk -v /dev/sda", "deny"),  # any other option still opens the disk to repartition
        ("lvremove -f /dev/vg0/data", "deny"),
        ("sudo vgremove vg0", "deny"),
        ("pvremove -y /dev/sdb1", "deny"),
        ("lvreduce -L 10G vg0/data", "deny"),
        ("pvcreate /dev/sdc", "allow"),  # refuses a device that holds data unless forced
        ("pvcreate --force /dev/sdc", "deny"),
        ("vgremove --help", "allow"),
        ("cryptsetup luksFormat /dev/sdb1", "deny"),
        ("cryptsetup luksKillSlot /dev/sdb1 0", "deny"),
        ("cryptsetup open /dev/sdb1 vault", "allow"),
        ("cryptsetup luksDump /dev/sdb1", "allow"),
        ("dump -0f backup.dump /dev/sdb1", "allow"),  # a backup written into the workspace
        ("dump -0u -f backup.dump /dev/sdb1", "ask"),  # -u also writes /etc/dumpdates
        ("dump -0f /srv/full.dump /dev/sdb1", "ask"),
    ],
)
def test_volume_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command
