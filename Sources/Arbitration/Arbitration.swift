// Module Arbitration: who may run a VM (see docs/replication.md). Filled in by the arbitration work.
