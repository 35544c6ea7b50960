"""mmsched.hw.cyclemodel."""
