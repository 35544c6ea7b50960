"""mmsched.sim."""
