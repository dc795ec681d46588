"""救助通 (jiuzhu): medical-assistance casework for township and county offices."""

__version__ = "0.1.0"
