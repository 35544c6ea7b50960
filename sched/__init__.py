"""mmsched.sched."""
