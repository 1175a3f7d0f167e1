"""Policy: rules over effects and scope that yield allow / ask / hold / deny."""

from blastdoor.policy.engine import Policy
from blastdoor.policy.loader import load

__all__ = ["Policy", "load"]
