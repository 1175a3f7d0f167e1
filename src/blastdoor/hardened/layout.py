"""Where hardened mode lives: ``/etc/blastdoor/system.toml`` names the home, the socket and the user.

The file belongs to root and is written by ``blastdoor install --system``. Its presence is what
tells every Blastdoor command on the machine to ask the daemon rather than open a home itself.
``BLASTDOOR_SYSTEM_CONFIG`` names another file (tests, a second install): pointing it elsewhere only
changes what that process asks; the daemon, its keys and its credentials stay where they are.
"""

from __future__ import annotations

import os
import pwd
import tomllib
from dataclasses import dataclass
from pathlib import Path

from blastdoor.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/blastdoor/system.toml")
DEFAULT_USER = "blastdoor"
RUNNERS = 2  # runners in the pool, unless install --system is told otherwise


@dataclass(frozen=True)
class System:
    home: Path
    socket: Path
    user: str

    @classmethod
    def under(cls, root: Path, user: str = DEFAULT_USER) -> System:
        """The standard places below ``root`` (``/`` for a real install)."""
        return cls(home=root / "var/lib/blastdoor", socket=root / "run/blastdoor/blastdoor.sock", user=user)

    def text(self) -> str:
        return (f'# written by blastdoor install --system\nhome = "{self.home}"\n'
                f'socket = "{self.socket}"\nuser = "{self.user}"\n')  # fmt: skip

    def uid(self) -> int | None:
        try:
            return pwd.getpwnam(self.user).pw_uid
        except KeyError:
            return None


def config_path() -> Path:
    given = os.environ.get("BLASTDOOR_SYSTEM_CONFIG")
    return Path(given) if given else SYSTEM_CONFIG


def read(path: Path | None = None) -> System | None:
    """The installed system (None when this machine has no hardened install)."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path} cannot be read: {error}", hint="run blastdoor install --system again as root") from None
    try:
        return System(home=Path(str(data["home"])), socket=Path(str(data["socket"])), user=str(data["user"]))
    except KeyError as missing:
        raise ConfigError(f"{path} lacks {missing}", hint="run blastdoor install --system again as root") from None


def served_by_daemon() -> System | None:
    """The system this process must ask, or None when it is the daemon's own user (or there is none)."""
    system = read()
    if system is None or system.uid() == os.geteuid():
        return None
    return system
