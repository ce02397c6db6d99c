"""The arithmetic of savings, shares, risk and finance: pure functions over numpy arrays."""
