"""Demo data: synthetic officers with drawn portraits, demo accounts, demo devices."""
