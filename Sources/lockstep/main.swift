import LockstepCLI
import LockstepSupport

// Every command's swift-log records are logfmt lines on standard error (the node's and the agent's).
LogfmtLogHandler.bootstrap()
LockstepCommand.main()
