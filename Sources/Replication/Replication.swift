// Module Replication: primary and backup (see docs/replication.md).
