"""The public incidents Blastdoor must stop, as replayable scenarios."""
