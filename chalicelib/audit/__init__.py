"""The audit trail: records derived from the main table's stream, sign-in records,
staff access records; two weeks searchable in the audit table, then archived to S3."""
