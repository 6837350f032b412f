"""`policykit report`: a policy's document and its code woven into one static site (see docs/report.md)."""
