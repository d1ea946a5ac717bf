"""The conformance kit: test classes that prove a component keeps the core's contracts.

Subclass a kit class in your own test module and provide its fixture; see
``docs/plugins/conformance-kit.md``.
"""
