"""What people read: the terminal summary of a plan or an evaluation (``text``)."""
