"""A sample third-party plugin used by the registry tests."""
