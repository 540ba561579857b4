// lockstep-kv: drives the Linux guest's key-value service and checks that no acknowledged write is lost.
LockstepKV.main()
