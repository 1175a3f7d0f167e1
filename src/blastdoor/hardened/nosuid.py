"""No set-user-ID or set-group-ID file from the runner or any program it starts (a seccomp filter).

A program the runner starts runs as the runner's user. If it could make a set-user-ID copy of an
interpreter in a folder the agent's user can reach, the agent's user would run that copy as the
runner's user whenever it liked, and so read later programs' environments. ``NoNewPrivileges``
does not stop a file being *made* set-user-ID, so the runner installs on itself, at start, a
seccomp filter that refuses (EPERM) every call that would give a file one of those bits, as
systemd's ``RestrictSUIDSGID=yes`` does: ``chmod``, ``fchmod``, ``fchmodat`` and ``fchmodat2``
with S_ISUID or S_ISGID in the mode, and ``mkdir``, ``mkdirat``, ``mknod``, ``mknodat``,
``creat``, and ``open`` / ``openat`` creating a file (O_CREAT, O_TMPFILE), with either bit in the
mode. ``openat2`` takes its mode in a structure the filter cannot read, so it fails with ENOSYS
(C libraries then use ``openat``). Every child inherits the filter across fork and exec, and
nothing can remove it. Calls of another architecture's ABI (a 32-bit program on x86-64) are not
filtered, so the kernel kills a process that makes them.

The filter is built with libseccomp (``libseccomp.so.2``, loaded with ctypes: no Python package
needed). When it cannot be installed, the runner does not start (:class:`Unavailable`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat

from blastdoor.errors import BlastdoorError

LIBRARY = "libseccomp.so.2"
_ALLOW = 0x7FFF0000  # SCMP_ACT_ALLOW
_ERRNO = 0x00050000  # SCMP_ACT_ERRNO(n) = _ERRNO | n
_MASKED_EQ = 7  # SCMP_CMP_MASKED_EQ: (argument & datum_a) == datum_b
FCHMODAT2 = (
    452  # the same number on every architecture (Linux 6.6); older libseccomp may not know its name
)

# (system call, position of its mode argument, position of its flags argument or -1)
MODE_CALLS = (
    ("chmod", 1, -1), ("fchmod", 1, -1), ("fchmodat", 2, -1), ("fchmodat2", 2, -1),
    ("mkdir", 1, -1), ("mkdirat", 2, -1), ("mknod", 1, -1), ("mknodat", 2, -1), ("creat", 1, -1),
    ("open", 2, 1), ("openat", 3, 2),
)  # fmt: skip
CREATING = (os.O_CREAT, getattr(os, "O_TMPFILE", 0o20200000))
UNREADABLE = ("openat2",)  # its mode is behind a pointer: refused with ENOSYS


class Unavailable(BlastdoorError):
    """The filter cannot be installed; the runner refuses to start."""


class _Compare(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def forbid_setid_files() -> None:
    """Install the filter on this process (and so on everything it starts from now on)."""
    lib = _library()
    context = lib.seccomp_init(_ALLOW)
    if not context:
        raise Unavailable("libseccomp could not make a filter", hint=HINT)
    try:
        for name, mode, flags in MODE_CALLS:
            number = _number(lib, name)
            if number < 0:
                continue  # not a system call of this architecture (open, chmod ... on arm64)
            # the mode counts always for a chmod, mkdir or mknod, for an open only when it creates
            conditions = [[]] if flags < 0 else [[(flags, creating, creating)] for creating in CREATING]
            for bit in (stat.S_ISUID, stat.S_ISGID):
                for condition in conditions:
                    _rule(lib, context, _ERRNO | errno.EPERM, number, [*condition, (mode, bit, bit)])
        for name in UNREADABLE:
            if (number := _number(lib, name)) >= 0:
                _rule(lib, context, _ERRNO | errno.ENOSYS, number, [])
        if (done := lib.seccomp_load(context)) != 0:
            raise Unavailable(f"the kernel refused the filter ({os.strerror(-done)})", hint=HINT)
    finally:
        lib.seccomp_release(context)


HINT = "install libseccomp2 (apt-get install libseccomp2) on a kernel with seccomp; the runner starts only with it"


def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY, use_errno=True)
    except OSError:
        raise Unavailable(
            f"{LIBRARY} is missing, so programs could make set-user-ID files", hint=HINT
        ) from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_Compare)]  # fmt: skip
    return lib


def _number(lib: ctypes.CDLL, name: str) -> int:
    number = int(lib.seccomp_syscall_resolve_name(name.encode()))
    return FCHMODAT2 if number < 0 and name == "fchmodat2" else number


def _rule(
    lib: ctypes.CDLL, context: int, action: int, number: int, compares: list[tuple[int, int, int]]
) -> None:
    array = (_Compare * max(1, len(compares)))(
        *[_Compare(arg, _MASKED_EQ, mask, value) for arg, mask, value in compares]
    )
    if (done := lib.seccomp_rule_add_array(context, action, number, len(compares), array)) != 0:
        raise Unavailable(
            f"libseccomp refused a rule for system call {number} ({os.strerror(-done)})", hint=HINT
        )
