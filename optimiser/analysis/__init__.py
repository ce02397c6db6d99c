"""Questions asked of a run or a plan, one module a question: ``evaluate`` (how would this
grouping do?) and ``summary`` (the figures a plan's summary shows)."""
