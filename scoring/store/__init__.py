"""Storage: the database, its tables and migrations, the evidence repository, audit trail and accounts."""
