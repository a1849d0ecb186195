"""The local process stack: the same real programs the chart runs, as plain processes."""
