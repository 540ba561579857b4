// Module KVWorkload: the key-value client that checks acknowledged writes survive failovers.
