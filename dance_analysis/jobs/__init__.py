"""The job service: records (SQLAlchemy), the queue (Huey), workers, leases and recovery.

Import the facade from :mod:`dance_analysis.jobs.service`; this package's
``__init__`` stays empty so that importing one piece does not drag in the rest.
"""
