"""mmsched.hw."""
