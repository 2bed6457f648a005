"""Dance Analysis: from a phone clip of a dancer to a skeleton, joint angles and feedback."""

__version__ = "0.1.0"
