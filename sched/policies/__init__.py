"""Built-in policies, one module each; importing this package registers them all."""
