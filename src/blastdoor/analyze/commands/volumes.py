"""Volumes on top of disks: LVM (lvremove, vgremove, pvremove, pvcreate, lvreduce) and LUKS
(cryptsetup). Filesystem backups (``dump``) are in backups.py.

Removing a logical volume, a volume group or a physical volume's label, shrinking a volume, or
formatting a device for LUKS loses the data on it, like formatting a disk: a ``destroy`` of the
device tagged ``system-disruption``. Opening, closing or resizing an encrypted mapping and adding
a key are reversible changes of this machine; status and dumps read.
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.disks import disk_operands
from blastdoor.analyze.commands.filesystem import DISRUPTION
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_HELP = frozenset({"-h", "--help", "--version", "-V"})
_FORCE = frozenset({"-f", "-ff", "--force", "-y", "--yes"})
# LVM commands that lose the data of the volumes they name.
_LVM_LOSS = {
    "lvremove": "remove the logical volume {}",
    "vgremove": "remove the volume group {} and every logical volume in it",
    "pvremove": "wipe the LVM label of {}",
    "pvcreate": "initialise {} for LVM",
    "lvreduce": "shrink the logical volume {} (data past its new end)",
}
_LVM_VALUED = frozenset({"-L", "--size", "-l", "--extents", "--config", "--reportformat",
                         "--commandprofile", "--profile", "-n", "--name"})  # fmt: skip
# cryptsetup actions that destroy the data or its only key; those that only read.
_LUKS_LOSS = frozenset({"luksFormat", "format", "erase", "luksErase", "luksKillSlot",
                        "luksRemoveKey", "reencrypt"})  # fmt: skip
_LUKS_READ = frozenset({"luksDump", "isLuks", "status", "luksUUID", "tcryptDump", "benchmark",
                        "bitlkDump", "fvault2Dump", "help"})  # fmt: skip
_LUKS_VALUED = frozenset({"-d", "--key-file", "-c", "--cipher", "-s", "--key-size", "-h", "--hash",
                          "-S", "--key-slot", "--label", "--type", "-l", "--keyfile-size",
                          "--header", "--pbkdf", "-i", "--iter-time"})  # fmt: skip


def _loss(inv: Invocation, target: str, how: str) -> Effect:
    """``how`` names what is done, ``{}`` standing for the target."""
    return effect(inv, Verb.DESTROY, Target("device", target), how.format(target) + ": its data is lost",
                  scope=Scope.LOCAL, reversibility=Reversibility.IRREVERSIBLE,
                  tags={"device", DISRUPTION})  # fmt: skip


def _lvm(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    args = {w.text for w in inv.args}
    targets = [w.text for w in disk_operands(inv.args, _LVM_VALUED)]
    if args & _HELP or not targets:
        yield effect(inv, Verb.READ, Target("program", inv.name), f"show {inv.name}'s usage")
        return
    if inv.name == "pvcreate" and not args & _FORCE:  # it refuses a device that holds data
        for target in targets:
            yield effect(inv, Verb.EXECUTE, Target("device", target),
                         f"initialise the empty device {target} for LVM", scope=Scope.LOCAL)  # fmt: skip
        return
    for target in targets:
        yield _loss(inv, target, _LVM_LOSS[inv.name])


def _cryptsetup(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    operands = [w.text for w in disk_operands(inv.args, _LUKS_VALUED)]
    action, targets = (operands[0], operands[1:]) if operands else ("help", [])
    if action in _LUKS_LOSS:
        for target in targets[:1]:
            yield _loss(inv, target, f"cryptsetup {action} {{}}")
    elif action in _LUKS_READ or {w.text for w in inv.args} & _HELP:
        yield effect(inv, Verb.READ, Target("device", " ".join(targets)), f"cryptsetup {action}",
                     scope=Scope.LOCAL)  # fmt: skip
    else:  # open, close, resize, luksAddKey ...: reversible changes of this machine
        yield effect(inv, Verb.EXECUTE, Target("device", " ".join(targets)),
                     f"cryptsetup {action} {' '.join(targets)}", scope=Scope.LOCAL)  # fmt: skip


FAMILIES = (
    CommandFamily.of(_LVM_LOSS, _lvm),
    CommandFamily.of(["cryptsetup"], _cryptsetup),
)
