"""The batch pipeline: queues, jobs, the nightly schedule and their command line.

The portal reaches this package only through its enqueue functions.
"""
