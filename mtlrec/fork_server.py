"""Imported by multiprocessing's fork server only (the first of procs.warm's preload modules), never elsewhere: the
fork server ignores SIGTERM, as the training processes it forks do (procs._serve).

Why: a SIGTERM to the process group (timeout, CI, `kill -- -PGID`) reached the fork server, which ended; the
training processes went on, but their exit codes pass through the fork server, so each then read as ended with
code 255 and the sweep winding down after that SIGTERM failed with "a training process ended unexpectedly" (under
load, when a process sent nothing for POLL seconds). The fork server still ends with its caller: it exits when the
caller's end of its pipe closes.
"""

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
