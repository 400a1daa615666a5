"""Complaints and reports (投诉举报) from the public about organizations and products: filing,
routing to the market-regulation department of the region, and the department's handling."""
