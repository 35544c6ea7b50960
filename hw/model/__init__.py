"""mmsched.hw.model."""
