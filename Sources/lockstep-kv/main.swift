// lockstep-kv: load and verify the guest's key-value service.
print("lockstep-kv: not yet")
