"""Vector store backends: the interface (`base`), one module per backend, the `registry`."""
