"""Open311 intake service, its single writer and the incident simulator."""
