"""calc: a command-line calculus assistant for the mathematics of machine learning."""
__version__ = "0.1.0"
