"""The use cases the GUI, the command line and the tests call; each write is one audited transaction."""
