import LockstepCLI

LockstepCommand.main()
